import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
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
 * are about this build's source paths).
 */
export async function buildTarget(
  go: string,
  target: Target,
  scratchDir: string,
  signal: AbortSignal,
  cache: BinaryCache | undefined,
  onStart?: (target: Target) => void,
): Promise<TargetBuild> {
  const scratchPath = join(scratchDir, target.fileName);
  const started = process.hrtime.bigint();
  onStart?.(target);
  const key = await cache?.keyFor(target);
  const cached = key === undefined ? undefined : await cache!.fetch(key, scratchPath);
  if (cached) {
    const binary = checkedBinary(target, cached.bytes, scratchPath);
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
  const child = execa(go, commandLine(target.command, scratchPath), {
    cwd: target.command.cwd,
    env: { ...target.command.env, GOTMPDIR: goTmp },
    cancelSignal: signal,
    reject: false,
    stdin: 'ignore',
    all: true,
    detached: true,
  });
  const untrack = trackChild(child.pid, child);
  const killGroup = (): void => {
    try {
      if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  };
  signal.addEventListener('abort', killGroup, { once: true });
  const result = await child.finally(() => {
    untrack();
    signal.removeEventListener('abort', killGroup);
  });
  if (result.isCanceled)
    throw new GociError(
      'GO_BUILD_FAILED',
      `${target.binary} (${formatPlatform(target.platform)}) was cancelled after another target failed`,
    );
  if (result.exitCode !== 0) throw await explainBuildFailure(target, result.all ?? '');
  const seconds = secondsSince(started);
  const bytes = await readFile(scratchPath);
  const binary = checkedBinary(target, bytes, scratchPath);
  if (key !== undefined) await cache!.store(key, { bytes, sha256: binary.sha256 });
  return { binary, size: bytes.length, seconds, cached: false };
}

function secondsSince(started: bigint): number {
  return Number(process.hrtime.bigint() - started) / 1e9;
}
