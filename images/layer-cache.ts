import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { copyFile, link, mkdir, readFile, rename, rm, stat, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { writeFileAtomic } from '../common/atomic.js';
import { cacheMaxBytes, gociCacheDir } from '../common/cache-dir.js';
import { pruneCache } from '../common/cache-prune.js';
import type { Layer } from './layer.js';

/** Bump when the layer writer's output for the same entries changes. */
const LAYER_FORMAT = 1;

function hex(digest: string): string {
  return digest.replace(/^sha256:/, '');
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(() => true, () => false);
}

/** Hashes a file: the check that a cached blob still holds the bytes its name promises. */
async function hashFile(path: string): Promise<string | undefined> {
  const hash = createHash('sha256');
  try {
    await pipeline(createReadStream(path), new Transform({ transform: (chunk: Buffer, _encoding, done) => { hash.update(chunk); done(); } }));
    return hash.digest('hex');
  } catch {
    return undefined;
  }
}

/**
 * Puts a verified cached blob into `blobDir`: a hard link (blobs never change after they are
 * written), or a copy across file systems. A blob whose bytes no longer match its name is not
 * used, so a damaged cache can cost a rebuild but never a wrong image.
 */
async function materialise(cacheDir: string, record: CachedRecord, blobDir: string, justWritten = false): Promise<Layer | undefined> {
  const target = join(blobDir, hex(record.digest));
  const cached = join(cacheDir, hex(record.digest));
  if (!(await exists(target))) {
    // A blob this process just wrote was hashed as it was written; anything older is re-checked.
    if (!justWritten && (await hashFile(cached)) !== hex(record.digest)) return undefined;
    await mkdir(blobDir, { recursive: true });
    const tmp = `${target}.goci-${randomBytes(6).toString('hex')}.tmp`;
    try {
      await link(cached, tmp).catch(async () => copyFile(cached, tmp));
      await rename(tmp, target);
    } catch {
      await rm(tmp, { force: true });
      return undefined;
    }
  }
  const now = new Date();
  await utimes(cached, now, now).catch(() => undefined);
  return { ...record, blobPath: target };
}

type CachedRecord = Omit<Layer, 'blobPath'>;
type LayerBuilder = (blobDir: string) => Promise<Layer>;

function cacheLocation(key: string): { cacheDir: string; recordPath: string } {
  const id = createHash('sha256').update(`${LAYER_FORMAT}\n${process.versions.zlib}\n${key}`).digest('hex');
  const cacheDir = join(gociCacheDir(), 'layers');
  return { cacheDir, recordPath: join(cacheDir, `${id}.json`) };
}

async function readRecord(recordPath: string): Promise<CachedRecord | undefined> {
  return readFile(recordPath, 'utf8').then((text) => JSON.parse(text) as CachedRecord, () => undefined);
}

/**
 * Makes sure goci's cache holds the layer for `key`, building it there if needed, without
 * touching any output: `goci build` runs this for the base while Go compiles.
 */
export async function warmLayerCache(key: string, build: LayerBuilder): Promise<void> {
  const { cacheDir, recordPath } = cacheLocation(key);
  const record = await readRecord(recordPath);
  // Present is enough here: cachedLayer verifies the bytes when it puts them into an output.
  if (record && (await stat(join(cacheDir, hex(record.digest))).then((info) => info.size === record.size, () => false))) return;
  if (!(await mkdir(cacheDir, { recursive: true }).then(() => true, () => false))) return;
  await remember(cacheDir, recordPath, await build(cacheDir)).catch(() => undefined);
}

/**
 * A layer whose bytes are a pure function of `key` (the static base; a binary layer keyed by
 * the binary's sha256): built once per machine, in goci's cache, then linked into `blobDir`.
 * `key` must name every input of the bytes; the compressed bytes also depend on Node's zlib,
 * so its version is part of the key. Without a usable cache it builds straight into `blobDir`.
 */
export async function cachedLayer(key: string, blobDir: string, build: LayerBuilder): Promise<Layer> {
  const { cacheDir, recordPath } = cacheLocation(key);
  const record = await readRecord(recordPath);
  const reused = record && (await materialise(cacheDir, record, blobDir));
  if (reused) return reused;
  if (!(await mkdir(cacheDir, { recursive: true }).then(() => true, () => false))) return build(blobDir);
  const layer = await build(cacheDir);
  await remember(cacheDir, recordPath, layer).catch(() => undefined);
  return (await materialise(cacheDir, layer, blobDir, true)) ?? build(blobDir);
}

async function remember(cacheDir: string, recordPath: string, layer: Layer): Promise<void> {
  const { blobPath: _blobPath, ...record } = layer;
  await writeFileAtomic(recordPath, JSON.stringify(record));
  await pruneCache(cacheDir, cacheMaxBytes(), hex(layer.digest));
}
