import { createHash } from 'node:crypto';
import { posix } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { extract as tarExtract, type Header } from 'tar-stream';
import { GociError, isGociError } from '../common/errors.js';
import { feedExtractor } from '../images/tar-feed.js';
import { layerEntryPath, OPAQUE_WHITEOUT, WHITEOUT_PREFIX } from '../oci/layer-paths.js';
import { BlobCheck, blobSize, verifyBlob, type ImageFiles } from './image-files.js';
import type { StoredLayer } from './read-layout.js';

/** A file as the container sees it, found in an image's layers. */
export interface FoundFile {
  /** Its path after following symlinks, absolute: `/usr/local/bin/hello`. */
  path: string;
  bytes: Buffer;
  /** The layer (0 = bottom) its bytes came from. */
  layer: number;
}

/** A program bigger than this is not a program; refusing it keeps a broken header from allocating gigabytes. */
const MAX_FILE = 1 << 30;
/** As Linux's MAXSYMLINKS (40) but lower: an image entrypoint is never more than a few links away. */
const MAX_LINKS = 16;

/**
 * Finds the file at `path` in the filesystem the layers (bottom first) stack up to, and
 * returns its bytes; undefined when there is no such file. As a container runtime applies
 * them: the topmost layer that has the path wins, whiteouts (`.wh.<name>`) and opaque
 * directories (`.wh..wh..opq`) hide what is below them, symlinks (of the path or of a
 * directory on the way) and hard links are followed.
 *
 * Layers are read top down, one at a time, and only as far down as needed (usually just the
 * top one): each is streamed from its source through node:zlib and tar-stream, and only the
 * wanted file's bytes are kept. Every layer read is checked against its digest (and its
 * uncompressed digest, rootfs.diff_ids) before anything found in it is used.
 * `where` names the image in messages (`the linux/amd64 image of oci:dist/oci:1.2.3`).
 */
export async function findFile(
  files: ImageFiles,
  layers: readonly StoredLayer[],
  path: string,
  where: string,
): Promise<FoundFile | undefined> {
  let current = layerEntryPath(path);
  let top = layers.length - 1;
  for (let hops = 0; hops <= MAX_LINKS; hops++) {
    if (current === '') throw new GociError('BAD_ARGUMENT', `${path} in ${where} is the root directory, not a program`);
    const found = await lookup(files, layers, current, top);
    switch (found.kind) {
      case 'file':
        return { path: `/${current}`, bytes: found.bytes, layer: found.layer };
      case 'missing':
        return undefined;
      case 'symlink':
        current = found.path;
        top = layers.length - 1;
        break;
      case 'hardlink':
        // A hard link shares the inode its target had when this layer was applied.
        current = found.target;
        top = found.layer;
        break;
      case 'other':
        throw new GociError(
          'BAD_ARGUMENT',
          `${path} in ${where} is a ${found.type}${current === layerEntryPath(path) ? '' : ` (/${current})`}, not a program`,
        );
    }
  }
  throw new GociError('BAD_ARGUMENT', `${path} in ${where} is behind more than ${MAX_LINKS} links`, {
    hint: 'a symlink loop, most likely',
  });
}

type Lookup =
  | { kind: 'file'; bytes: Buffer; layer: number }
  | { kind: 'missing' }
  | { kind: 'symlink'; path: string }
  | { kind: 'hardlink'; target: string; layer: number }
  | { kind: 'other'; type: string };

/** An entry's type as tar-stream names it, and its link target. */
interface Seen {
  /** tar-stream's name for the entry type (`file`, `symlink`, `link`, `directory`, ...). */
  type: Header['type'] | 'entry of an unknown type';
  linkname: string;
}

/** What one layer says about the path and the directories leading to it. */
interface LayerFindings {
  /** The last entry at the path itself, with its bytes when it is a file. */
  hit?: Seen & { bytes?: Buffer };
  /** The last entry at each ancestor directory (by depth: 0 is the first component). */
  ancestors: Map<number, Seen>;
  /** A whiteout of the path or of an ancestor, or an opaque ancestor: the layers below cannot provide it. */
  hidesBelow: boolean;
}

/** The state of `path` (no symlinks followed) after applying layers 0..top. */
async function lookup(files: ImageFiles, layers: readonly StoredLayer[], path: string, top: number): Promise<Lookup> {
  const components = path.split('/');
  const ancestors = components.slice(0, -1).map((_, depth) => components.slice(0, depth + 1).join('/'));
  /** Ancestors whose topmost entry so far is a directory: what lower layers have there is replaced. */
  const settled = new Set<number>();
  for (let index = top; index >= 0; index--) {
    const findings = await scanLayer(files, layers[index]!, path, ancestors);
    for (let depth = 0; depth < ancestors.length; depth++) {
      const seen = findings.ancestors.get(depth);
      if (seen === undefined || settled.has(depth)) continue;
      if (seen.type === 'directory') {
        settled.add(depth);
        continue;
      }
      if (seen.type === 'symlink')
        return { kind: 'symlink', path: follow(ancestors[depth]!, seen.linkname, components.slice(depth + 1)) };
      return { kind: 'missing' }; // a file where a directory should be: nothing is below it
    }
    const hit = findings.hit;
    if (hit !== undefined) {
      if (hit.bytes !== undefined) return { kind: 'file', bytes: hit.bytes, layer: index };
      if (hit.type === 'symlink') return { kind: 'symlink', path: follow(path, hit.linkname, []) };
      if (hit.type === 'link') return { kind: 'hardlink', target: layerEntryPath(hit.linkname), layer: index };
      return { kind: 'other', type: hit.type };
    }
    if (findings.hidesBelow) return { kind: 'missing' };
  }
  return { kind: 'missing' };
}

/** Where a symlink at `link` pointing at `target` leads, with `rest` below it; `..` stops at the root. */
function follow(link: string, target: string, rest: string[]): string {
  const base = target.startsWith('/') ? target : posix.join(posix.dirname(`/${link}`), target);
  return layerEntryPath(posix.join('/', base, ...rest));
}

/**
 * Streams one layer, noting the entries at `path` and its ancestors and the whiteouts that
 * hide them, and keeping the bytes of a file at `path`. Fails unless the blob matches its
 * digest and its tar its diff ID; when the content cannot be read, a digest mismatch is
 * reported in preference, since that is the cause.
 */
async function scanLayer(
  files: ImageFiles,
  layer: StoredLayer,
  path: string,
  ancestors: string[],
): Promise<LayerFindings> {
  const expect = { ...(layer.digest ? { digest: layer.digest } : {}), size: layer.size };
  await blobSize(files, layer.path, expect, layer.role);
  const compression = compressionOf(await files.read(layer.path, 0, 6));
  if (compression !== 'gzip' && compression !== 'none') {
    throw new GociError(
      'BAD_ARGUMENT',
      `${layer.role} in ${files.description} is ${compression}-compressed, which goci does not read`,
      {
        hint: 'goci reads gzip and uncompressed layers, as docker and goci write them',
      },
    );
  }
  try {
    return await readLayer(files, layer, compression === 'gzip', path, ancestors);
  } catch (error) {
    // Whatever failed, a blob that does not match its digest is the cause to report.
    await verifyBlob(files, layer.path, expect, layer.role);
    if (isGociError(error)) throw error;
    throw new GociError(
      'IO_FAILED',
      `${layer.role} in ${files.description} is not a readable ${compression === 'gzip' ? 'gzip-compressed ' : ''}tar: ${(error as Error).message}`,
      {
        cause: error,
        hint: 'the image is damaged or was changed after it was written: write or copy it again',
      },
    );
  }
}

function compressionOf(head: Buffer): string {
  if (head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head.length >= 4 && head.readUInt32LE(0) === 0xfd2fb528) return 'zstd';
  if (head.subarray(0, 3).toString('latin1') === 'BZh') return 'bzip2';
  if (head.subarray(0, 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))) return 'xz';
  return 'none';
}

async function readLayer(
  files: ImageFiles,
  layer: StoredLayer,
  gzip: boolean,
  path: string,
  ancestors: string[],
): Promise<LayerFindings> {
  const findings: LayerFindings = { ancestors: new Map(), hidesBelow: false };
  const blob = new BlobCheck(
    files,
    layer.path,
    { ...(layer.digest ? { digest: layer.digest } : {}), size: layer.size },
    layer.role,
  );
  const tarHash = createHash('sha256');
  const extractor = tarExtract();
  extractor.on('error', noop);

  const consuming = (async () => {
    for await (const entry of extractor) {
      const header = entry.header;
      const name = layerEntryPath(header.name);
      // tar-stream gives null for a type flag it does not know.
      const seen: Seen = {
        type: (header.type as Header['type'] | null) ?? 'entry of an unknown type',
        linkname: header.linkname ?? '',
      };
      const depth = ancestors.indexOf(name);
      if (name === path) {
        if (seen.type === 'file' || seen.type === 'contiguous-file') {
          findings.hit = {
            ...seen,
            type: 'file',
            bytes: await collect(entry as AsyncIterable<Buffer>, header.size ?? 0, `${path} in ${layer.role}`),
          };
          continue;
        }
        findings.hit = seen;
      } else if (depth !== -1) {
        findings.ancestors.set(depth, seen);
      } else if (hides(name, path)) {
        findings.hidesBelow = true;
      }
      entry.resume();
    }
  })();

  const producing = (async () => {
    const tap = async function* (chunks: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
      for await (const chunk of chunks) {
        blob.update(chunk);
        yield chunk;
      }
    };
    const feed = feedExtractor(extractor, (chunk) => tarHash.update(chunk));
    const source: Readable = files.stream(layer.path);
    if (gzip) await pipeline(source, tap, createGunzip(), feed);
    else await pipeline(source, tap, feed);
  })();
  producing.catch((error: unknown) => extractor.destroy(error as Error));

  const [produced, consumed] = await Promise.allSettled([producing, consuming]);
  // The blob's digest first: a damaged blob explains whatever else went wrong.
  if (produced.status === 'fulfilled') blob.check();
  // A reader that failed stops the producer, so its reason is the one to give.
  if (consumed.status === 'rejected') throw consumed.reason;
  if (produced.status === 'rejected') throw produced.reason;
  const diffId = `sha256:${tarHash.digest('hex')}`;
  if (layer.diffId !== undefined && diffId !== layer.diffId) {
    throw new GociError(
      'IO_FAILED',
      `blob ${layer.digest ?? layer.path} (${layer.role}) in ${files.description}: digest mismatch, its tar hashes to ${diffId} where the config's rootfs.diff_ids says ${layer.diffId}`,
      {
        hint: 'the image is damaged or was changed after it was written: write or copy it again',
      },
    );
  }
  return findings;
}

/** A whiteout that hides `path` in the layers below: of the path, of an ancestor, or an opaque ancestor. */
function hides(name: string, path: string): boolean {
  const base = posix.basename(name);
  if (!base.startsWith(WHITEOUT_PREFIX)) return false;
  const dir = name.includes('/') ? posix.dirname(name) : '';
  const within = (prefix: string): boolean => prefix === '' || path.startsWith(`${prefix}/`);
  if (base === OPAQUE_WHITEOUT) return within(dir);
  const hidden = dir === '' ? base.slice(WHITEOUT_PREFIX.length) : `${dir}/${base.slice(WHITEOUT_PREFIX.length)}`;
  return path === hidden || path.startsWith(`${hidden}/`);
}

/** Exactly one entry's bytes, into one buffer of its announced size. */
async function collect(entry: AsyncIterable<Buffer>, size: number, what: string): Promise<Buffer> {
  if (size > MAX_FILE)
    throw new GociError('BAD_ARGUMENT', `${what} is ${size} bytes, more than goci reads as a program`);
  const bytes = Buffer.allocUnsafe(size);
  let filled = 0;
  for await (const chunk of entry) {
    if (filled + chunk.byteLength > size) throw new Error(`${what} holds more bytes than its header announces`);
    chunk.copy(bytes, filled);
    filled += chunk.byteLength;
  }
  if (filled !== size) throw new Error(`${what} holds fewer bytes than its header announces`);
  return bytes;
}

function noop(): void {}
