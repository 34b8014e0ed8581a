import { isAscii } from 'node:buffer';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Script } from 'node:vm';
import { userCacheHome } from './cache-dir.js';

const CHECKSUM_BYTES = 32;
/** Files kept: one per command for a few goci installations or Node releases used in turn; older builds' go. */
const KEPT_FILES = 24;

/**
 * Where V8's compiled code for goci's bundle is kept: GOCI_CODE_CACHE names a directory, or
 * `off`; by default `goci-code` in the user's cache home. It is not under GOCI_CACHE_DIR: it
 * belongs to the installed program, not to any build, and a run that fails must leave the
 * build caches as they were.
 */
export function codeCacheDir(env: NodeJS.ProcessEnv): string | undefined {
  if (env.GOCI_CODE_CACHE === 'off') return undefined;
  if (env.GOCI_CODE_CACHE) return env.GOCI_CODE_CACHE;
  return join(userCacheHome(env), 'goci-code');
}

/**
 * One file per bundle build, Node release and `variant` (the command): a rebuilt bundle or
 * another Node never reads old code, and each command keeps the functions it compiled.
 */
function cacheFileFor(bundle: string, variant: string, dir: string): string {
  const info = statSync(bundle);
  const identity = [process.version, process.arch, bundle, info.size, info.mtimeMs, info.ino, variant].join('\n');
  return join(dir, `${createHash('sha256').update(identity).digest('hex')}.bin`);
}

/** The cached code, only if its checksum holds: a file cut short or damaged is compiled afresh. */
function readVerified(path: string): Buffer | undefined {
  let file: Buffer;
  try {
    file = readFileSync(path);
  } catch {
    return undefined;
  }
  const data = file.subarray(CHECKSUM_BYTES);
  const sum = createHash('sha256').update(data).digest();
  return file.length > CHECKSUM_BYTES && sum.equals(file.subarray(0, CHECKSUM_BYTES)) ? data : undefined;
}

/** Written whole under a unique name, then renamed: processes starting at once never read half a file. */
function writeVerified(path: string, data: Buffer): void {
  const staged = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    writeFileSync(staged, Buffer.concat([createHash('sha256').update(data).digest(), data]), { mode: 0o600 });
    renameSync(staged, path);
    pruneOthers(dirname(path));
  } catch {
    // Only a speed-up: a read-only home (a BuildKit frontend container) compiles every time.
    rmSync(staged, { force: true });
  }
}

/** Keeps the newest KEPT_FILES cache files: each rebuilt or upgraded bundle writes a new one. */
function pruneOthers(dir: string): void {
  const files = readdirSync(dir)
    .filter((name) => name.endsWith('.bin'))
    .map((name) => ({
      path: join(dir, name),
      mtime: statSync(join(dir, name), { throwIfNoEntry: false })?.mtimeMs ?? 0,
    }))
    .sort((a, b) => b.mtime - a.mtime);
  for (const { path } of files.slice(KEPT_FILES)) rmSync(path, { force: true });
}

/**
 * Runs the CommonJS bundle at `url` and returns its exports; `variant` names the code cache
 * file among those of the same bundle (the CLI's command: `goci build` compiles other functions
 * than `goci --help`, and a cache holding more costs more to read). Node 20 keeps no compiled code for
 * ES modules between runs, so goci's CLI is one CommonJS file run through vm.Script with V8's
 * code cache: measured here, loading goci's code fell from 43 ms to 22 ms, and a warm
 * `goci build --push` spent 60 ms less CPU, as the cache written at exit also holds every
 * function the run compiled. The cache is written when it was missing or V8 refused it.
 */
export function loadBundle(url: URL, variant: string, env: NodeJS.ProcessEnv = process.env): unknown {
  const bundle = fileURLToPath(url);
  const bytes = readFileSync(bundle);
  // esbuild writes ASCII: read as latin1, a plain copy, where UTF-8 decoding took 4 ms of 1.6 MB.
  const source = bytes.toString(isAscii(bytes) ? 'latin1' : 'utf8');
  const dir = codeCacheDir(env);
  const cacheFile = dir === undefined ? undefined : cacheFileFor(bundle, variant, dir);
  const cachedData = cacheFile === undefined ? undefined : readVerified(cacheFile);
  // The wrapper on the bundle's first line keeps its line numbers in stack traces.
  const script = new Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, {
    filename: bundle,
    ...(cachedData ? { cachedData } : {}),
  });
  if (cacheFile !== undefined && (cachedData === undefined || script.cachedDataRejected === true))
    process.once('exit', () => writeVerified(cacheFile, script.createCachedData()));
  const module = { exports: {} as unknown };
  const run = script.runInThisContext() as (...args: unknown[]) => void;
  run(module.exports, createRequire(bundle), module, bundle, dirname(bundle));
  return module.exports;
}
