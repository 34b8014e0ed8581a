import { createHash } from 'node:crypto';
import { readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { writeFileAtomic } from '../common/atomic.js';
import { cacheMaxBytes, gociCacheDir } from '../common/cache-dir.js';
import { pruneCache } from '../common/cache-prune.js';
import { displayPath } from '../common/display-path.js';
import { warn } from '../common/warn.js';
import { readModuleInputs, type ModuleInputs } from './module-inputs.js';
import type { Target } from './plan.js';
import { goEnvFile, toolchainIdentity } from './toolchain-identity.js';

/** Bump when what a key covers changes. */
const KEY_FORMAT = 1;

/** Variables that say where Go keeps things or how it fetches them, never what it builds (fetched modules are checked against go.sum). */
const LOCATION_ONLY_ENV = new Set([
  'GOCACHE',
  'GOMODCACHE',
  'GOPROXY',
  'GOSUMDB',
  'GONOSUMDB',
  'GONOPROXY',
  'GOPRIVATE',
  'GOINSECURE',
  'GOVCS',
  'GOTMPDIR',
  'GOMAXPROCS',
  'GOGC',
  'GOMEMLIMIT',
  'GOTRACEBACK',
]);

/** Flags that make go build read files outside the module tree. */
const OUTSIDE_INPUT_FLAGS = /(^|\s)--?(overlay|modfile)\b/;

/**
 * goci's cache of finished binaries, keyed on everything `go build` reads: the toolchain, the
 * Go environment (process and `go env -w`), the command (flags, ldflags stamps, target env),
 * the VCS facts Go stamps, and the content of every input file of the module. -trimpath and
 * -buildid= make the output a function of those alone, so a hit is the binary go build would
 * write, without starting it. Anything goci cannot name makes the target uncacheable.
 */
export interface BinaryCache {
  /** The target's key, or undefined when goci cannot name all its inputs. */
  keyFor(target: Target): Promise<string | undefined>;
  /** Writes the cached binary for `key` to `path` and returns it, if the cache holds it intact. */
  fetch(key: string, path: string): Promise<CachedBinary | undefined>;
  /** Remembers `binary` for `key`. Never fails the build. */
  store(key: string, binary: CachedBinary): Promise<void>;
  /**
   * Keeps the cache within its size (GOCI_CACHE_MAX_BYTES), least recently used first: run
   * while Go compiles, not as binaries are stored, where it would hold up the end of the run.
   * Never fails the build.
   */
  prune(): Promise<void>;
}

export interface CachedBinary {
  bytes: Buffer;
  /** Hex, as the compile results print it. */
  sha256: string;
}

interface CachedRecord {
  digest: string;
}

export function openBinaryCache(go: string, distDir: string, env: NodeJS.ProcessEnv): BinaryCache {
  const cacheDir = join(gociCacheDir(env), 'binaries');
  const toolchain = toolchainIdentity(go, env);
  const goEnv = goEnvFile(env);
  const modules = new Map<string, Promise<ModuleInputs | undefined>>();
  const moduleInputs = (root: string): Promise<ModuleInputs | undefined> => {
    let inputs = modules.get(root);
    if (!inputs) {
      // dist/ is goci's output: binaries landing there must not change the next key.
      inputs = readModuleInputs(root, [distDir], env);
      modules.set(root, inputs);
    }
    return inputs;
  };
  return {
    async keyFor(target) {
      const { command, moduleRoot, stamp } = target;
      if (moduleRoot === undefined || OUTSIDE_INPUT_FLAGS.test([...command.args, env.GOFLAGS ?? ''].join(' ')))
        return undefined;
      const [toolchainId, goEnvText, inputs] = await Promise.all([toolchain, goEnv, moduleInputs(moduleRoot)]);
      if (toolchainId === undefined || inputs === undefined) return undefined;
      const description = JSON.stringify({
        format: KEY_FORMAT,
        toolchain: toolchainId,
        goEnvFile: goEnvText,
        environment: goEnvironment(env),
        command: {
          dir: relative(moduleRoot, command.cwd),
          args: command.args,
          env: command.env,
          package: command.package,
        },
        // What Go stamps as vcs.revision, vcs.time and vcs.modified, unless told not to stamp it.
        vcs: command.args.includes('-buildvcs=false')
          ? undefined
          : { commit: stamp.commit, time: stamp.commitTimestamp, modified: stamp.modified },
        inputs: inputs.lines,
      });
      return createHash('sha256').update(description).digest('hex');
    },
    async fetch(key, path) {
      const recordPath = join(cacheDir, `${key}.json`);
      const record = await readFile(recordPath, 'utf8').then(
        (text) => JSON.parse(text) as Partial<CachedRecord>,
        () => undefined,
      );
      if (typeof record?.digest !== 'string' || !/^sha256:[0-9a-f]{64}$/.test(record.digest)) return undefined;
      const blob = join(cacheDir, record.digest.replace(/^sha256:/, ''));
      // Read whole, then hashed: a blob another run prunes meanwhile is a miss, never a partial binary.
      const bytes = await readFile(blob).catch(() => undefined);
      if (!bytes) return undefined;
      const sha256 = createHash('sha256').update(bytes).digest('hex');
      // A damaged cache costs a rebuild, never a wrong binary: the entry is evicted and go build runs.
      if (`sha256:${sha256}` !== record.digest) {
        const where = displayPath(cacheDir);
        warn(`cached binary ${record.digest} in ${where} did not match its digest; removed it, compiling again`);
        await rm(blob, { force: true }).catch(() => undefined);
        await rm(recordPath, { force: true }).catch(() => undefined);
        return undefined;
      }
      // A copy of the verified bytes: the output never shares an inode with the cache.
      await writeFile(path, bytes, { mode: 0o755 });
      const now = new Date();
      await utimes(blob, now, now).catch(() => undefined);
      return { bytes, sha256 };
    },
    async store(key, { bytes, sha256 }) {
      try {
        const blob = join(cacheDir, sha256);
        // The same binary again (a change go build compiled to the same bytes): the blob is only
        // marked used, and the cache has not grown. A damaged one is found, and evicted, by fetch.
        const held = await stat(blob).then(
          (info) => info.size === bytes.length,
          () => false,
        );
        if (held) await utimes(blob, new Date(), new Date());
        else await writeFileAtomic(blob, bytes, 0o755);
        await writeFileAtomic(
          join(cacheDir, `${key}.json`),
          JSON.stringify({ digest: `sha256:${sha256}` } satisfies CachedRecord),
        );
      } catch {
        // The cache is only a speed-up: a full disk or a read-only home must not fail the build.
      }
    },
    async prune() {
      await pruneCache(cacheDir, cacheMaxBytes(env), '').catch(() => undefined);
    },
  };
}

/** The process's Go settings (GOFLAGS, GOAMD64, GOEXPERIMENT, …), without those that only locate things. */
function goEnvironment(env: NodeJS.ProcessEnv): [string, string][] {
  return Object.entries(env)
    .filter(
      (entry): entry is [string, string] =>
        /^(GO|CGO_)/.test(entry[0]) &&
        !entry[0].startsWith('GOCI_') &&
        !LOCATION_ONLY_ENV.has(entry[0]) &&
        entry[1] !== undefined,
    )
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}
