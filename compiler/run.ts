import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { GociError } from '../common/errors.js';
import { commandLine } from './command.js';
import { explainBuildFailure } from './failure.js';
import type { Target } from './plan.js';
import { formatPlatform } from './platform.js';
import { verifyBinary } from './verify.js';

/** A binary that built and passed its checks, still in the scratch directory. */
export interface BuiltBinary {
  target: Target;
  scratchPath: string;
  size: number;
  sha256: string;
  seconds: number;
}

/** Runs one target's `go build` into `scratchDir`, then checks what came out. */
export async function buildTarget(go: string, target: Target, scratchDir: string, signal: AbortSignal, onStart?: (target: Target) => void): Promise<BuiltBinary> {
  const scratchPath = join(scratchDir, target.fileName);
  const started = process.hrtime.bigint();
  onStart?.(target);
  const result = await execa(go, commandLine(target.command, scratchPath), {
    cwd: target.command.cwd,
    env: target.command.env,
    cancelSignal: signal,
    reject: false,
    stdin: 'ignore',
    all: true,
  });
  if (result.isCanceled) throw new GociError('GO_BUILD_FAILED', `${target.binary} (${formatPlatform(target.platform)}) was cancelled after another target failed`);
  if (result.exitCode !== 0) throw await explainBuildFailure(target, result.all ?? '');
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const bytes = await readFile(scratchPath);
  verifyBinary(target, bytes);
  return { target, scratchPath, size: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex'), seconds };
}
