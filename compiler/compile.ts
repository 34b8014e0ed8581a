import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { trackTemporary, uninterrupted } from '../common/interrupt.js';
import { ownerTag, sweepDeadOwners } from '../common/owner.js';
import { FilePublication } from '../common/publish.js';
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
 * Binaries built and checked but not yet in dist: `binaries` name their final paths, `staged`
 * the scratch files holding them. `publication` moves them into dist/bin as one step (or
 * not at all); `dispose` removes the scratch directory.
 */
export interface StagedBinaries {
  binaries: CompiledBinary[];
  /** Scratch path per binary, in the order of `binaries`. */
  staged: string[];
  publication: FilePublication;
  dispose(): Promise<void>;
}

/**
 * Builds every target in parallel (sharing Go's build cache) into a scratch directory in
 * $TMPDIR (go's own temporary files included) and leaves dist untouched: the caller publishes
 * them with the rest of its outputs. Scratch directories of goci runs that died are swept.
 */
export async function compileStaged(plan: Plan, options: CompileOptions): Promise<StagedBinaries> {
  await sweepDeadOwners(tmpdir(), (name) => /^goci-(compile|stage|load)-/.test(name));
  const scratch = await mkdtemp(join(tmpdir(), `goci-compile-${ownerTag()}-`));
  const forget = trackTemporary(scratch);
  const dispose = async (): Promise<void> => {
    await rm(scratch, { recursive: true, force: true });
    forget();
  };
  const cache = options.cache ? openBinaryCache(plan.toolchain.go, options.distDir, process.env) : undefined;
  try {
    const built = await runLimited(plan.targets, options.jobs, async (target, signal) => {
      const binary = await buildTarget(plan.toolchain.go, target, scratch, signal, cache, options.onStart);
      options.onBuilt?.(target, binary.size, binary.seconds, binary.cached);
      return binary;
    });
    const binaries = built.map((binary) => ({
      build: binary.target.buildId,
      binary: binary.target.binary,
      platform: formatPlatform(binary.target.platform),
      version: binary.target.stamp.version,
      path: join(options.distDir, 'bin', binary.target.fileName),
      size: binary.size,
      sha256: binary.sha256,
      seconds: binary.seconds,
      cached: binary.cached,
    }));
    const staged = built.map((binary) => binary.scratchPath);
    const files = binaries.map((binary, position) => ({ from: staged[position]!, to: binary.path }));
    const publication = new FilePublication(files);
    return { binaries, staged, publication, dispose };
  } catch (error) {
    await dispose();
    throw error;
  }
}

/**
 * Builds every target and moves them into dist/bin only when all succeeded, all of them or
 * none (a full disk while moving rolls back those already moved): a failed run leaves dist as
 * it was.
 */
export async function compileTargets(plan: Plan, options: CompileOptions): Promise<CompiledBinary[]> {
  const staged = await compileStaged(plan, options);
  try {
    await uninterrupted(() => staged.publication.publish());
    return staged.binaries;
  } finally {
    await staged.dispose();
  }
}
