import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { GociError } from '../common/errors.js';
import { stopRequested, trackChild } from '../common/interrupt.js';
import type { BinaryCache } from './binary-cache.js';
import { checkedBinary, type Binary } from './checked-binary.js';
import { commandLine } from './command.js';
import { explainBuildFailure } from './failure.js';
import type { Target } from './plan.js';
import { formatPlatform } from './platform.js';

/** One target's build: the checked binary (its source: the file in the scratch directory) and how it went. */
export interface TargetBuild {
  binary: Binary<string>;
  size: number;
  seconds: number;
  /** Whether it came from goci's binary cache instead of go build. */
  cached: boolean;
}

/**
 * Runs one target's `go build` into `scratchDir`, or takes the binary from `cache` when it
 * holds one for the same inputs, then checks what came out (a cached binary too: the checks
 * are about this build's source paths). `collector` is how go's processes collect garbage
 * (collector.ts): it changes how fast they run, never what they write. A binary goes into the
 * cache in the background: its write joins `storing`.
 */
export async function buildTarget(
  go: string,
  target: Target,
  scratchDir: string,
  signal: AbortSignal,
  cache: BinaryCache | undefined,
  collector: Record<string, string>,
  storing: Promise<void>[],
  onStart?: (target: Target) => void,
): Promise<TargetBuild> {
  const scratchPath = join(scratchDir, target.fileName);
  const started = process.hrtime.bigint();
  onStart?.(target);
  const key = await cache?.keyFor(target);
  const cached = key === undefined ? undefined : await cache!.fetch(key, scratchPath);
  if (cached) {
    const binary = checkedBinary(target, cached.bytes, scratchPath, cached.sha256);
    return { binary, size: cached.bytes.length, seconds: secondsSince(started), cached: true };
  }
  if (stopRequested()) {
    const what = `${target.binary} (${formatPlatform(target.platform)})`;
    throw new GociError('GO_BUILD_FAILED', `${what} was not started: goci is stopping`);
  }
  // Go's own work directories go below goci's scratch directory (GOTMPDIR), and go runs in its
  // own process group: on SIGINT/SIGTERM goci kills the group (go and the compilers it started)
  // and removes the scratch directory with everything Go left in it.
  const goTmp = join(scratchDir, 'gotmp');
  await mkdir(goTmp, { recursive: true });
  const result = await runGo(go, commandLine(target.command, scratchPath), {
    cwd: target.command.cwd,
    env: { ...process.env, ...collector, ...target.command.env, GOTMPDIR: goTmp },
    signal,
  });
  if (signal.aborted)
    throw new GociError(
      'GO_BUILD_FAILED',
      `${target.binary} (${formatPlatform(target.platform)}) was cancelled after another target failed`,
    );
  if (result.exitCode !== 0) throw await explainBuildFailure(target, result.output);
  const seconds = secondsSince(started);
  const bytes = await readFile(scratchPath);
  const binary = checkedBinary(target, bytes, scratchPath);
  // Kept off the path to the image: the caller waits for it before the run ends.
  if (key !== undefined) storing.push(cache!.store(key, { bytes, sha256: binary.sha256 }));
  return { binary, size: bytes.length, seconds, cached: false };
}

interface GoRun {
  /** undefined when go could not be started or was killed. */
  exitCode: number | undefined;
  /** stdout and stderr interleaved as they arrived, as a terminal would show them. */
  output: string;
}

/**
 * Starts go in a process group of its own, tracked for SIGINT/SIGTERM; `signal` kills the whole
 * group. Node's spawn rather than execa: execa's set-up cost 10 ms of main-thread time per
 * build here, paid before the next target could start.
 */
async function runGo(
  go: string,
  args: string[],
  options: { cwd: string; env: NodeJS.ProcessEnv; signal: AbortSignal },
): Promise<GoRun> {
  const child = spawn(go, args, {
    cwd: options.cwd,
    env: options.env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const chunks: Buffer[] = [];
  child.stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
  child.stderr.on('data', (chunk: Buffer) => chunks.push(chunk));
  const exited = new Promise<GoRun>((resolve) => {
    child.once('error', (error) => resolve({ exitCode: undefined, output: `${go}: ${error.message}` }));
    child.once('close', (code) => resolve({ exitCode: code ?? undefined, output: Buffer.concat(chunks).toString() }));
  });
  const untrack = trackChild(child.pid, exited);
  const killGroup = (): void => {
    try {
      if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  };
  options.signal.addEventListener('abort', killGroup, { once: true });
  if (options.signal.aborted) killGroup();
  return exited.finally(() => {
    untrack();
    options.signal.removeEventListener('abort', killGroup);
  });
}

function secondsSince(started: bigint): number {
  return Number(process.hrtime.bigint() - started) / 1e9;
}
