import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { moveIntoPlace } from '../common/atomic.js';
import { openBinaryCache } from './binary-cache.js';
import type { Plan, Target } from './plan.js';
import { formatPlatform } from './platform.js';
import { buildTarget } from './run.js';
import { runLimited } from './schedule.js';

/** A finished binary in its final place. Plain data: what the table and --json print. */
export interface CompiledBinary {
  build: string;
  binary: string;
  platform: string;
  version: string;
  path: string;
  size: number;
  sha256: string;
  seconds: number;
  /** Taken from goci's binary cache: nothing that go build reads had changed. */
  cached: boolean;
}

export interface CompileOptions {
  /** Where binaries land: `<distDir>/bin/<file>`. */
  distDir: string;
  jobs: number;
  /** Reuse binaries from goci's cache when every input is unchanged (--no-cache turns it off). */
  cache: boolean;
  onStart?: (target: Target) => void;
  /** Called as each target finishes and passes its checks (before anything moves into dist). */
  onBuilt?: (target: Target, size: number, seconds: number, cached: boolean) => void;
}

/**
 * Builds every target in parallel (sharing Go's build cache) into a scratch directory and
 * moves them into dist/bin only when all succeeded: a failed run leaves dist as it was.
 */
export async function compileTargets(plan: Plan, options: CompileOptions): Promise<CompiledBinary[]> {
  const scratch = await mkdtemp(join(tmpdir(), 'goci-compile-'));
  const cache = options.cache ? openBinaryCache(plan.toolchain.go, options.distDir, process.env) : undefined;
  try {
    const built = await runLimited(plan.targets, options.jobs, async (target, signal) => {
      const binary = await buildTarget(plan.toolchain.go, target, scratch, signal, cache, options.onStart);
      options.onBuilt?.(target, binary.size, binary.seconds, binary.cached);
      return binary;
    });
    const results: CompiledBinary[] = [];
    for (const binary of built) {
      const path = join(options.distDir, 'bin', binary.target.fileName);
      await moveIntoPlace(binary.scratchPath, path);
      results.push({
        build: binary.target.buildId,
        binary: binary.target.binary,
        platform: formatPlatform(binary.target.platform),
        version: binary.target.stamp.version,
        path,
        size: binary.size,
        sha256: binary.sha256,
        seconds: binary.seconds,
        cached: binary.cached,
      });
    }
    return results;
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}
