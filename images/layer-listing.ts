import { createReadStream } from 'node:fs';
import { mkdir, open, readFile } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { PassThrough } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { extract as tarExtract, type Header } from 'tar-stream';
import { writeFileAtomic } from '../common/atomic.js';
import { gociCacheDir } from '../common/cache-dir.js';
import { GociError, isGociError } from '../common/errors.js';
import type { Descriptor } from '../oci/descriptor.js';
import { layerEntryPath, OPAQUE_WHITEOUT, WHITEOUT_PREFIX } from '../oci/layer-paths.js';
import { verifyingStream } from '../oci/verified-stream.js';
import { feedExtractor } from './tar-feed.js';
import type { LayerListing } from './paths-below.js';

/** Bump when what a listing records changes. */
const LISTING_FORMAT = 1;

type BlobId = Pick<Descriptor, 'digest' | 'size'>;

async function isGzip(path: string): Promise<boolean> {
  const handle = await open(path, 'r');
  try {
    const head = Buffer.alloc(2);
    await handle.read(head, 0, 2, 0);
    return head[0] === 0x1f && head[1] === 0x8b;
  } finally {
    await handle.close();
  }
}

function ownerOf(header: Header, field: 'uid' | 'gid'): number {
  const pax = (header.pax as Record<string, string> | undefined)?.[field];
  return pax === undefined ? (header[field] ?? 0) : Number(pax);
}

/** Adds one tar entry's effect to `listing`. A file that replaces a directory of a lower layer is not seen: rare, and harmless here. */
function record(listing: LayerListing, header: Header): void {
  const path = layerEntryPath(header.name);
  if (path === '') return;
  const name = posix.basename(path);
  const dir = path.includes('/') ? posix.dirname(path) : '';
  if (name === OPAQUE_WHITEOUT) listing.opaque.push(dir);
  else if (name.startsWith(WHITEOUT_PREFIX)) listing.hidden.push(posix.join(dir, name.slice(WHITEOUT_PREFIX.length)));
  else if (header.type === 'directory') {
    const mode = (header.mode ?? 0o755) & 0o7777;
    listing.paths.push([path, { type: 'directory', mode, uid: ownerOf(header, 'uid'), gid: ownerOf(header, 'gid') }]);
  } else if (header.type === 'symlink') listing.paths.push([path, { type: 'symlink', target: header.linkname ?? '' }]);
}

/**
 * The directories, symlinks and whiteouts of the layer blob at `path` (a gzip or plain tar),
 * read as a stream once the blob matched its digest. `where` names it in messages.
 */
export async function listLayerBlob(path: string, blob: BlobId, where: string): Promise<LayerListing> {
  // Checked first, in a pass of its own: a damaged blob is named as such, not as a bad gzip stream.
  await pipeline(createReadStream(path), verifyingStream(blob, where), new PassThrough().resume());
  const listing: LayerListing = { hidden: [], opaque: [], paths: [] };
  const extractor = tarExtract();
  const reading = (async () => {
    for await (const entry of extractor) {
      record(listing, entry.header);
      entry.resume();
    }
  })();
  const feed = feedExtractor(extractor);
  const feeding = (await isGzip(path))
    ? pipeline(createReadStream(path), createGunzip(), feed)
    : pipeline(createReadStream(path), feed);
  feeding.catch((error: unknown) => extractor.destroy(error as Error));
  const [fed, read] = await Promise.allSettled([feeding, reading]);
  const failure = fed.status === 'rejected' ? fed.reason : read.status === 'rejected' ? read.reason : undefined;
  if (failure === undefined) return listing;
  if (isGociError(failure)) throw failure;
  throw new GociError('IO_FAILED', `cannot read the layer ${blob.digest} of ${where}: ${(failure as Error).message}`, {
    hint: 'the layer is not a tar (goci reads gzip and uncompressed layers)',
    cause: failure,
  });
}

function listingPath(digest: string): string {
  return join(gociCacheDir(), 'listings', `${digest.replace(/^sha256:/, '')}.v${LISTING_FORMAT}.json`);
}

function isListing(value: unknown): value is LayerListing {
  const listing = value as LayerListing | undefined;
  return Array.isArray(listing?.hidden) && Array.isArray(listing.opaque) && Array.isArray(listing.paths);
}

/**
 * A layer's listing from goci's cache, else from `list` (which reads the verified blob), kept
 * for the next build: a layer's digest fixes its bytes, so its listing never changes.
 */
export async function cachedLayerListing(digest: string, list: () => Promise<LayerListing>): Promise<LayerListing> {
  const path = listingPath(digest);
  const cached = await readFile(path, 'utf8').then(
    (text) => JSON.parse(text) as unknown,
    () => undefined,
  );
  if (isListing(cached)) return cached;
  const listing = await list();
  await mkdir(join(gociCacheDir(), 'listings'), { recursive: true })
    .then(() => writeFileAtomic(path, JSON.stringify(listing)))
    .catch(() => undefined);
  return listing;
}
