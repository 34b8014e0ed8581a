import { ignoreIfCreated } from '../common/output-root.js';
import { availableParallelism, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { uninterrupted } from '../common/interrupt.js';
import { isScratchName, ownedScratch, sweepDeadOwners } from '../common/owner.js';
import { FilePublication, type PublishedFile } from '../common/publish.js';
import { openBinaryCache } from './binary-cache.js';
import { collectorSettings } from './collector.js';
import type { Binary } from './checked-binary.js';
import type { Plan, Target } from './plan.js';
import { formatPlatform } from './platform.js';
import { buildTarget, type TargetBuild } from './run.js';
import { toolchainVersion } from './toolchain-identity.js';
import { runLimited } from '../common/run-limited.js';

/** A finished binary in its final place. Plain data: what the table and --json print. */
export interface DistBinary {
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
  onBuilt?: (build: TargetBuild) => void;
}

/**
 * Binaries built and checked but not yet in dist: `binaries` name their final paths,
 * `inScratch` are the same with the scratch paths that hold them (for what reads them before
 * they are published), `files` pair each scratch file with its place in dist/bin for a
 * FilePublication. `dispose` waits for binaries still going into goci's cache, then removes the
 * scratch directory.
 */
export interface StagedBinaries {
  binaries: DistBinary[];
  inScratch: DistBinary[];
  /** Each staged binary (as in `inScratch`), checked, with the target it was built for. */
  built: Binary<string>[];
  files: PublishedFile[];
  /** The dist directory `files` go into. */
  distDir: string;
  dispose(): Promise<void>;
}

/**
 * Builds every target in parallel (sharing Go's build cache) into a scratch directory in
 * $TMPDIR (go's own temporary files included) and leaves dist untouched: the caller publishes
 * them with the rest of its outputs. Scratch directories of goci runs that died are swept.
 */
export async function compileStaged(plan: Plan, options: CompileOptions): Promise<StagedBinaries> {
  await sweepDeadOwners(tmpdir(), isScratchName);
  const { dir: scratch, dispose: removeScratch } = await ownedScratch('compile');
  // Binaries written into goci's cache while the run goes on; a run ends only once they are written.
  const storing: Promise<void>[] = [];
  const cache = options.cache ? openBinaryCache(plan.toolchain.go, options.distDir, process.env) : undefined;
  // While Go compiles, goci itself has nothing to do: the cache is kept within its size then.
  const pruning = cache?.prune();
  const dispose = async (): Promise<void> => {
    await Promise.all([...storing, pruning]);
    await removeScratch();
  };
  const machine = {
    goVersion: await toolchainVersion(plan.toolchain.go, process.env),
    concurrentBuilds: Math.min(options.jobs, plan.targets.length),
    cpus: availableParallelism(),
    totalMemory: totalmem(),
  };
  try {
    const builds = await runLimited(plan.targets, options.jobs, async (target, signal) => {
      const collector = collectorSettings({ ...machine, env: { ...process.env, ...target.command.env } });
      const build = await buildTarget(
        plan.toolchain.go,
        target,
        scratch,
        signal,
        cache,
        collector,
        storing,
        options.onStart,
      );
      options.onBuilt?.(build);
      return build;
    });
    const binaries = builds.map(({ binary, size, seconds, cached }) => ({
      build: binary.target.buildId,
      binary: binary.target.binary,
      platform: formatPlatform(binary.target.platform),
      version: binary.target.stamp.version,
      path: join(options.distDir, 'bin', binary.target.fileName),
      size,
      sha256: binary.sha256,
      seconds,
      cached,
    }));
    const inScratch = binaries.map((binary, position) => ({ ...binary, path: builds[position]!.binary.source }));
    const files = binaries.map((binary, position) => ({ from: inScratch[position]!.path, to: binary.path }));
    return {
      binaries,
      inScratch,
      built: builds.map((build) => build.binary),
      files,
      distDir: options.distDir,
      dispose,
    };
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
export async function compileTargets(plan: Plan, options: CompileOptions): Promise<DistBinary[]> {
  return publishStaged(await compileStaged(plan, options));
}

/** Moves staged binaries into dist/bin, all or none, then removes their scratch directory. */
export async function publishStaged(staged: StagedBinaries): Promise<DistBinary[]> {
  try {
    const ignore = await ignoreIfCreated(staged.distDir);
    await uninterrupted(() => new FilePublication(staged.files).publish());
    await ignore();
    return staged.binaries;
  } finally {
    await staged.dispose();
  }
}
