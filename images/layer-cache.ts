import { createHash } from 'node:crypto';
import { link, mkdir, readFile, rename, rm, stat, utimes } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { temporarySibling } from '../common/atomic.js';
import { writeFileAtomic } from '../common/atomic.js';
import { cacheMaxBytes, gociCacheDir } from '../common/cache-dir.js';
import { pruneCache } from '../common/cache-prune.js';
import { displayPath } from '../common/display-path.js';
import { warn } from '../common/warn.js';
import { copyVerifiedBlob, hashFile } from '../oci/blob-file.js';
import type { Layer } from './layer.js';

/** Bump when the layer writer's output for the same entries changes. */
const LAYER_FORMAT = 2;

function hex(digest: string): string {
  return digest.replace(/^sha256:/, '');
}

/** Drops a cache entry whose bytes do not match its digest, saying so: the layer is then rebuilt. */
async function evict(cacheDir: string, recordPath: string, digest: string): Promise<void> {
  warn(`cached layer ${digest} in ${displayPath(cacheDir)} did not match its digest; removed it, rebuilding the layer`);
  await rm(join(cacheDir, hex(digest)), { force: true }).catch(() => undefined);
  await rm(recordPath, { force: true }).catch(() => undefined);
}

/**
 * How a cached layer goes into a layout: `copy` for a layout that becomes an output (it must not
 * share an inode with the cache, or damage to one reaches the other); `link` for a push's scratch
 * layout, read and removed within the run (a hard link also keeps the bytes if another run
 * prunes the cache meanwhile).
 */
export type Placement = 'copy' | 'link';

/** Layers this process wrote into the cache, hashed as they were written: their bytes are not read again to check them. */
const writtenHere = new Set<string>();

/**
 * Puts a cached blob into `blobDir` (see Placement; a copy where a link cannot be made). The
 * bytes are checked before the name appears, unless this process wrote and hashed them, so a
 * damaged cache costs a rebuild but never a wrong image. A blob already in `blobDir` is kept
 * only if its own bytes match. 'missing' when the entry vanished (another run pruned it): a
 * miss, not an error.
 */
async function materialise(
  cacheDir: string,
  record: CachedRecord,
  blobDir: string,
  placement: Placement,
): Promise<Layer | 'missing' | 'corrupt'> {
  const target = join(blobDir, hex(record.digest));
  const source = join(cacheDir, hex(record.digest));
  const linked = placement === 'link' && (await linkVerified(source, target, record.digest));
  if (linked !== true && (await hashFile(target)) !== hex(record.digest)) {
    await mkdir(blobDir, { recursive: true });
    const outcome = await copyVerifiedBlob(source, target, hex(record.digest));
    if (outcome !== 'copied') return outcome;
  }
  const now = new Date();
  await utimes(source, now, now).catch(() => undefined);
  return { ...record, blobPath: target };
}

/** Hard-links `source` to `target`, checked unless written here; false when no link can be made (then it is copied). */
async function linkVerified(source: string, target: string, digest: string): Promise<boolean> {
  const tmp = temporarySibling(target);
  try {
    await mkdir(dirname(target), { recursive: true });
    await link(source, tmp);
    if (!writtenHere.has(digest) && (await hashFile(tmp)) !== hex(digest)) return false;
    await rename(tmp, target);
    return true;
  } catch {
    return false;
  } finally {
    await rm(tmp, { force: true }).catch(() => undefined);
  }
}

type CachedRecord = Omit<Layer, 'blobPath'>;
type LayerBuilder = (blobDir: string) => Promise<Layer>;
/** A layer in the cache; `built`: this run wrote it, and hashed its bytes as it did. */
type InCache = { layer: Layer; built: boolean };

function cacheLocation(key: string): { cacheDir: string; recordPath: string } {
  const id = createHash('sha256').update(`${LAYER_FORMAT}\n${process.versions.zlib}\n${key}`).digest('hex');
  const cacheDir = join(gociCacheDir(), 'layers');
  return { cacheDir, recordPath: join(cacheDir, `${id}.json`) };
}

async function readRecord(recordPath: string): Promise<CachedRecord | undefined> {
  const record = await readFile(recordPath, 'utf8').then(
    (text) => JSON.parse(text) as CachedRecord,
    () => undefined,
  );
  return typeof record?.digest === 'string' && /^sha256:[0-9a-f]{64}$/.test(record.digest) ? record : undefined;
}

/** The layer the cache's record names, if its blob is there at the recorded size (bytes not hashed). */
async function presentInCache(cacheDir: string, recordPath: string): Promise<Layer | undefined> {
  const record = await readRecord(recordPath);
  if (!record) return undefined;
  const blobPath = join(cacheDir, hex(record.digest));
  const present = await stat(blobPath).then(
    (info) => info.size === record.size,
    () => false,
  );
  return present ? { ...record, blobPath } : undefined;
}

/**
 * Builds a layer into the cache and records it, once per key at a time in this process: the
 * base layer warmed while Go compiles and the same layer wanted meanwhile by an early push or
 * the assembly are compressed once, the later callers waiting for the first.
 */
const building = new Map<string, Promise<InCache | undefined>>();
function buildIntoCache(cacheDir: string, recordPath: string, build: LayerBuilder): Promise<InCache | undefined> {
  let pending = building.get(recordPath);
  if (!pending) {
    pending = (async () => {
      // Another caller may have finished between this one's look into the cache and now.
      const present = await presentInCache(cacheDir, recordPath);
      if (present) return { layer: present, built: false };
      const layer = await build(cacheDir).catch(() => undefined);
      if (!layer) return undefined;
      writtenHere.add(layer.digest);
      await remember(recordPath, layer).catch(() => undefined);
      return { layer, built: true };
    })().finally(() => building.delete(recordPath));
    building.set(recordPath, pending);
  }
  return pending;
}

/**
 * The cache's layer for `key`, built there if missing (`built`: its bytes were hashed as they
 * were written); an entry already there is only checked for its size. undefined without a usable cache.
 */
async function ensureInCache(key: string, build: LayerBuilder): Promise<InCache | undefined> {
  const { cacheDir, recordPath } = cacheLocation(key);
  const present = await presentInCache(cacheDir, recordPath);
  if (present) return { layer: present, built: false };
  if (
    !(await mkdir(cacheDir, { recursive: true }).then(
      () => true,
      () => false,
    ))
  )
    return undefined;
  return buildIntoCache(cacheDir, recordPath, build);
}

/**
 * Makes sure goci's cache holds the layer for `key`, building it there if needed, without
 * touching any output: `goci build` runs this for the base while Go compiles. Present is enough
 * here: cachedLayer verifies the bytes when it puts them into an output.
 */
export async function warmLayerCache(key: string, build: LayerBuilder): Promise<void> {
  await ensureInCache(key, build);
}

/**
 * The layer for `key` in goci's cache, built there if it is not, its bytes checked against its
 * digest (an entry found there is hashed; one just built was hashed as it was written):
 * `blobPath` is the cache's file, to be read (uploaded) before any output exists, never to be
 * handed out as an output; `built` says this call wrote it. undefined without a usable cache.
 */
export async function layerInCache(key: string, build: LayerBuilder): Promise<InCache | undefined> {
  const found = await ensureInCache(key, build);
  if (!found || found.built) return found;
  return (await hashFile(found.layer.blobPath)) === hex(found.layer.digest) ? found : undefined;
}

/**
 * A layer whose bytes are a pure function of `key` (the static base; a binary layer keyed by
 * the binary's sha256): built once per machine, in goci's cache, then placed into `blobDir`.
 * `key` must name every input of the bytes; the compressed bytes also depend on Node's zlib,
 * so its version is part of the key. Without a usable cache it builds straight into `blobDir`.
 * A cache entry whose bytes do not match is evicted with a warning and built again.
 */
export async function cachedLayer(
  key: string,
  blobDir: string,
  build: LayerBuilder,
  placement: Placement = 'copy',
): Promise<Layer> {
  const { cacheDir, recordPath } = cacheLocation(key);
  const record = await readRecord(recordPath);
  if (record) {
    const reused = await materialise(cacheDir, record, blobDir, placement).catch(() => 'missing' as const);
    if (typeof reused === 'object') return reused;
    if (reused === 'corrupt') await evict(cacheDir, recordPath, record.digest);
  }
  if (
    !(await mkdir(cacheDir, { recursive: true }).then(
      () => true,
      () => false,
    ))
  )
    return build(blobDir);
  const layer = (await buildIntoCache(cacheDir, recordPath, build))?.layer;
  if (!layer) return build(blobDir);
  const copied = await materialise(cacheDir, layer, blobDir, placement).catch(() => 'missing' as const);
  // Damaged or pruned between the write and the copy (another run): build straight into the output.
  return typeof copied === 'object' ? copied : build(blobDir);
}

async function remember(recordPath: string, layer: Layer): Promise<void> {
  const { blobPath: _blobPath, ...record } = layer;
  await writeFileAtomic(recordPath, JSON.stringify(record));
}

/**
 * Keeps goci's layer cache within its size (GOCI_CACHE_MAX_BYTES), least recently used first.
 * Not done as layers are written, where its reads and stats would queue behind (and delay) the
 * compression of the last layer: `goci build` runs it while Go compiles. A run may so leave
 * the cache above the limit by the layers it wrote itself, until the next run.
 */
export async function pruneLayerCache(): Promise<void> {
  const { cacheDir } = cacheLocation('');
  await pruneCache(cacheDir, cacheMaxBytes(), '').catch(() => undefined);
}
