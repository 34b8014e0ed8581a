import { createHash } from 'node:crypto';
import { channel } from 'node:diagnostics_channel';
import { type Stats, constants as fsConstants } from 'node:fs';
import { mkdir, open, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import type { Pack } from 'tar-stream';
import { temporarySibling } from '../common/atomic.js';
import { HashedOutput, addEmptyEntry, packTar, streamEntry, type PackHeader } from './tar-pack.js';
import { GociError, isGociError } from '../common/errors.js';
import { PIECE_BYTES, deflateInPieces } from './piecewise-deflate.js';

/**
 * One thing to put into a layer. Paths are container paths: `/usr/local/bin/hello` and
 * `usr/local/bin/hello` are the same entry. Modes are permission bits only (0 to 0o7777,
 * setuid/setgid/sticky included) and are stored exactly as given; owners are numeric.
 */
export type LayerEntry = LayerFileFromDisk | LayerFileWithContent | LayerDirectory | LayerSymlink;

/** A file whose content is streamed from `source` on disk (a Go binary, a certificate bundle). */
export interface LayerFileFromDisk {
  type: 'file';
  path: string;
  mode: number;
  uid: number;
  gid: number;
  source: string;
}

/** A small generated file (passwd, group, os-release), held in memory. */
export interface LayerFileWithContent {
  type: 'file';
  path: string;
  mode: number;
  uid: number;
  gid: number;
  content: Uint8Array;
}

export interface LayerDirectory {
  type: 'directory';
  path: string;
  mode: number;
  uid: number;
  gid: number;
}

/** Stored with mode 0777, as symlinks always are on Linux. The target is kept verbatim (absolute or relative). */
export interface LayerSymlink {
  type: 'symlink';
  path: string;
  target: string;
  uid: number;
  gid: number;
}

export interface LayerOptions {
  /** Modification time of every entry, in unix seconds: SOURCE_DATE_EPOCH, or 0. */
  mtime: number;
  /** zlib level 0-9. Default 1: layers are mostly Go binaries, where higher levels cost far more time than they save bytes. */
  gzipLevel?: number;
}

export const LAYER_MEDIA_TYPE = 'application/vnd.oci.image.layer.v1.tar+gzip';

export interface Layer {
  mediaType: typeof LAYER_MEDIA_TYPE;
  /** `sha256:<hex>` of the gzip blob: what a manifest's layer descriptor names. */
  digest: string;
  /** Size of the gzip blob in bytes. */
  size: number;
  /** `sha256:<hex>` of the uncompressed tar: what the image config's rootfs.diff_ids lists. */
  diffId: string;
  uncompressedSize: number;
  /** `<blobDir>/<hex digest>`. */
  blobPath: string;
}

/** Mode, owner and mtime of the parent directories nobody listed, as Docker and BuildKit layers have them. */
const IMPLICIT_DIRECTORY_MODE = 0o755;
const SYMLINK_MODE = 0o777;
/** Largest uid/gid a 7-digit octal ustar field holds; larger ids go into a pax header. */
const MAX_USTAR_ID = 0o777777;
const MAX_ID = 0xffffffff;
/**
 * tar-stream encodes mtime as `(ms / 1000) | 0`, a signed 32-bit value, so anything after
 * 2038-01-19 would come out as a negative (invalid) octal field.
 */
export const MAX_LAYER_MTIME = 0x7fffffff;
const DEFAULT_GZIP_LEVEL = 1;
/**
 * zlib's largest hash table (memLevel 9, 128 KiB more than the default 8): at level 1 it
 * deflates a Go binary a quarter faster (fewer hash collisions to walk) for 0.1% more bytes.
 */
const DEFLATE_MEM_LEVEL = 9;

/** What fixes a layer's compressed bytes (with the zlib version): provenance records it. */
export const LAYER_COMPRESSION = {
  format: 'gzip',
  level: DEFAULT_GZIP_LEVEL,
  memLevel: DEFLATE_MEM_LEVEL,
  pieceBytes: PIECE_BYTES,
} as const;
const READ_CHUNK = 1 << 18;

/** The gzip OS byte: 3 (Unix), the same as the release archives (compiler/archive/tar-gz.ts) write. */
export const GZIP_OS_UNIX = 3;

/** An entry after validation: normalised path, encoded for sorting. */
type CheckedEntry = (LayerEntry | ImplicitDirectory) & { name: string; nameBytes: Buffer };
interface ImplicitDirectory {
  type: 'directory';
  path: string;
  mode: number;
  uid: number;
  gid: number;
  implicit: true;
}

/** The header argument of tar-stream's `pack.entry()`; `pax` holds extra pax records. */
type LayerHeader = PackHeader & { pax?: Record<string, string> };

/**
 * Told `{ digest, size }` each time a layer is compressed: how often a run spends deflate on
 * the same bytes is visible (to tests, to tracing) without a timer. Costs nothing unheard.
 */
export const layerWritten = channel('goci:layer-written');

/**
 * Writes a reproducible gzip-compressed tar layer into `blobDir` (an OCI layout's
 * `blobs/sha256`) as `<blobDir>/<hex digest>` and describes it.
 *
 * Determinism: entries sorted by path (UTF-8 byte order), missing parent directories added
 * (0755, 0/0), every mtime `options.mtime`, numeric owners with empty user and group names,
 * ustar headers (pax only when a name, link target or id does not fit), a gzip member with a
 * fixed header. The same entries and file contents give the same bytes whatever their order
 * and whatever the source files' own timestamps, owners and permissions.
 *
 * One pass, bounded memory: file content flows from disk through the tar packer, the diffId
 * hash, deflate and the digest hash into a temporary file in `blobDir`, which is renamed into
 * place at the end. On failure the temporary file is removed and the error is a GociError.
 */
export async function writeLayer(
  entries: readonly LayerEntry[],
  blobDir: string,
  options: LayerOptions,
): Promise<Layer> {
  const mtime = checkMtime(options.mtime);
  const level = checkGzipLevel(options.gzipLevel ?? DEFAULT_GZIP_LEVEL);
  const checked = checkEntries(entries);
  await checkSources(checked);

  let tmp: string | undefined;
  let output: FileHandle | undefined;
  try {
    await mkdir(blobDir, { recursive: true });
    tmp = temporarySibling(join(blobDir, 'layer'));
    output = await open(tmp, 'wx', 0o644);
    const written = await writeTarGzip(checked, mtime, level, output);
    const closing = output;
    output = undefined;
    await closing.close();

    const blobPath = join(blobDir, written.digestHex);
    // These bytes were hashed as they were written: they replace whatever holds the name now
    // (a same-size file there may be damaged; the rename is atomic for readers).
    await rename(tmp, blobPath);
    tmp = undefined;
    if (layerWritten.hasSubscribers)
      layerWritten.publish({ digest: `sha256:${written.digestHex}`, size: written.size });
    return {
      mediaType: LAYER_MEDIA_TYPE,
      digest: `sha256:${written.digestHex}`,
      size: written.size,
      diffId: `sha256:${written.diffIdHex}`,
      uncompressedSize: written.uncompressedSize,
      blobPath,
    };
  } catch (error) {
    if (output !== undefined) await output.close().catch(() => undefined);
    if (tmp !== undefined) await rm(tmp, { force: true }).catch(() => undefined);
    if (isGociError(error)) throw error;
    throw new GociError('IO_FAILED', `cannot write layer blob into ${blobDir}: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

// ---------------------------------------------------------------------------------------------
// Validation (before anything is written)

function badArgument(message: string, hint?: string): GociError {
  return new GociError('BAD_ARGUMENT', message, hint === undefined ? {} : { hint });
}

function checkMtime(mtime: number): number {
  if (!Number.isSafeInteger(mtime) || mtime < 0 || mtime > MAX_LAYER_MTIME) {
    throw badArgument(
      `layer mtime ${String(mtime)} is not a whole number of unix seconds between 0 and ${MAX_LAYER_MTIME}`,
      'set SOURCE_DATE_EPOCH to a time between 1970 and 2038',
    );
  }
  return mtime;
}

function checkGzipLevel(level: number): number {
  if (!Number.isInteger(level) || level < 0 || level > 9) {
    throw badArgument(`gzip level ${String(level)} is not a whole number from 0 to 9`);
  }
  return level;
}

/**
 * `/usr/local/bin/hello`, `usr/local/bin/hello` and `usr//local/./bin/hello/` all become
 * `usr/local/bin/hello`. `..` segments are rejected rather than resolved, so an entry can
 * never be meant for somewhere other than where it lands.
 */
export function normaliseLayerPath(path: string): string {
  if (typeof path !== 'string') throw badArgument(`layer path ${String(path)} is not a string`);
  const shown = JSON.stringify(path);
  if (path.includes('\0')) throw badArgument(`layer path ${shown} contains a NUL byte`);
  const segments = path.split('/').filter((segment) => segment !== '' && segment !== '.');
  if (segments.includes('..')) {
    throw badArgument(
      `layer path ${shown} contains a '..' segment`,
      "give the path inside the image, such as '/usr/local/bin/app'",
    );
  }
  if (segments.length === 0) {
    throw badArgument(
      `layer path ${shown} is empty or names the root directory`,
      "give the path inside the image, such as '/usr/local/bin/app'",
    );
  }
  return segments.join('/');
}

function checkOwner(name: string, what: 'uid' | 'gid', value: number): void {
  if (!Number.isSafeInteger(value) || value < 0 || value > MAX_ID) {
    throw badArgument(`layer entry ${name} has ${what} ${String(value)}; expected a whole number from 0 to ${MAX_ID}`);
  }
}

function checkMode(name: string, mode: number): void {
  if (!Number.isInteger(mode) || mode < 0 || mode > 0o7777) {
    throw badArgument(
      `layer entry ${name} has mode ${String(mode)}; expected permission bits from 0 to 0o7777, such as 0o755 or 0o644`,
      'pass stat.mode & 0o7777 rather than the whole st_mode',
    );
  }
}

function checkEntry(entry: LayerEntry): CheckedEntry {
  if (entry === null || typeof entry !== 'object') throw badArgument(`layer entry ${String(entry)} is not an object`);
  const name = normaliseLayerPath(entry.path);
  checkOwner(name, 'uid', entry.uid);
  checkOwner(name, 'gid', entry.gid);
  switch (entry.type) {
    case 'file': {
      checkMode(name, entry.mode);
      const hasContent = 'content' in entry && entry.content !== undefined;
      const hasSource = 'source' in entry && entry.source !== undefined;
      if (hasContent === hasSource) throw badArgument(`layer file ${name} needs exactly one of source and content`);
      if (hasContent && !((entry as LayerFileWithContent).content instanceof Uint8Array)) {
        throw badArgument(`layer file ${name} has content that is not a Uint8Array`);
      }
      if (
        hasSource &&
        (typeof (entry as LayerFileFromDisk).source !== 'string' || (entry as LayerFileFromDisk).source === '')
      ) {
        throw badArgument(`layer file ${name} has an empty source path`);
      }
      break;
    }
    case 'directory':
      checkMode(name, entry.mode);
      break;
    case 'symlink':
      if (typeof entry.target !== 'string' || entry.target === '' || entry.target.includes('\0')) {
        throw badArgument(`layer symlink ${name} has an empty or invalid target ${JSON.stringify(entry.target)}`);
      }
      break;
    default:
      throw badArgument(
        `layer entry ${name} has unknown type ${JSON.stringify((entry as { type: unknown }).type)}; expected file, directory or symlink`,
      );
  }
  return { ...entry, name, nameBytes: Buffer.from(name, 'utf8') };
}

/**
 * Normalises and validates every entry, rejects duplicates and entries below a non-directory,
 * adds the missing parent directories and returns everything sorted by path in byte order
 * (a parent always sorts before its children, because it is a prefix of them).
 */
function checkEntries(entries: readonly LayerEntry[]): CheckedEntry[] {
  if (!Array.isArray(entries)) throw badArgument('layer entries must be an array');
  const byName = new Map<string, CheckedEntry>();
  for (const entry of entries) {
    const checked = checkEntry(entry);
    const previous = byName.get(checked.name);
    if (previous !== undefined) {
      throw badArgument(
        `layer path ${checked.name} is listed twice (as ${JSON.stringify(previous.path)} and ${JSON.stringify(checked.path)})`,
        'give each path in the image once',
      );
    }
    byName.set(checked.name, checked);
  }

  for (const entry of [...byName.values()]) {
    const segments = entry.name.split('/');
    for (let depth = 1; depth < segments.length; depth++) {
      const parent = segments.slice(0, depth).join('/');
      const existing = byName.get(parent);
      if (existing === undefined) {
        byName.set(parent, {
          type: 'directory',
          path: parent,
          mode: IMPLICIT_DIRECTORY_MODE,
          uid: 0,
          gid: 0,
          implicit: true,
          name: parent,
          nameBytes: Buffer.from(parent, 'utf8'),
        });
      } else if (existing.type !== 'directory') {
        throw badArgument(`layer path ${entry.name} is inside ${parent}, which is a ${existing.type}, not a directory`);
      }
    }
  }

  return [...byName.values()].sort((a, b) => Buffer.compare(a.nameBytes, b.nameBytes));
}

function sourceError(entry: CheckedEntry & LayerFileFromDisk, error: unknown): GociError {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') {
    return new GociError('NOT_FOUND', `layer file ${entry.name}: source ${entry.source} does not exist`, {
      cause: error,
    });
  }
  return new GociError(
    'IO_FAILED',
    `layer file ${entry.name}: cannot read ${entry.source}: ${(error as Error).message}`,
    { cause: error },
  );
}

function notRegular(entry: CheckedEntry & LayerFileFromDisk): GociError {
  return badArgument(`layer file ${entry.name}: source ${entry.source} is not a regular file`);
}

function isFromDisk(entry: CheckedEntry): entry is CheckedEntry & LayerFileFromDisk {
  return entry.type === 'file' && 'source' in entry && typeof entry.source === 'string';
}

/** Fails early, before the temporary blob exists, on sources that are missing or not files. */
async function checkSources(entries: readonly CheckedEntry[]): Promise<void> {
  for (const entry of entries) {
    if (!isFromDisk(entry)) continue;
    let stats: Stats;
    try {
      stats = await stat(entry.source);
    } catch (error) {
      throw sourceError(entry, error);
    }
    if (!stats.isFile()) throw notRegular(entry);
  }
}

// ---------------------------------------------------------------------------------------------
// The stream: tar-stream packer -> (sha256, crc32, length) -> deflate in pieces -> (sha256, length) -> file

interface Written {
  digestHex: string;
  size: number;
  diffIdHex: string;
  uncompressedSize: number;
}

/**
 * The 10-byte gzip member header, written by hand: zlib's own gzip wrapper takes the OS byte
 * from a compile-time constant (3 on Linux, other values in Windows and macOS builds), so the
 * same layer would differ by where it was built. MTIME 0, no name, XFL as zlib sets it for the
 * level (2 = slowest, 4 = fastest, else 0), OS 3 (Unix).
 */
export function gzipHeader(level: number): Buffer {
  const xfl = level === 9 ? 2 : level <= 1 ? 4 : 0;
  return Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, xfl, GZIP_OS_UNIX]);
}

async function writeTarGzip(
  entries: readonly CheckedEntry[],
  mtime: number,
  level: number,
  handle: FileHandle,
): Promise<Written> {
  const diffIdHash = createHash('sha256');
  let crc = 0;
  let uncompressedSize = 0;
  async function* tarBytes(tar: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
    for await (const chunk of tar) {
      diffIdHash.update(chunk);
      crc = crc32(chunk, crc);
      uncompressedSize += chunk.byteLength;
      yield chunk;
    }
  }
  const output = new HashedOutput(handle);
  await packTar(
    entries,
    (packer, entry) => addEntry(packer, entry, mtime),
    async (tar) => {
      await output.write(gzipHeader(level));
      await deflateInPieces(tarBytes(tar), { level, memLevel: DEFLATE_MEM_LEVEL }, (chunk) => output.write(chunk));
      const trailer = Buffer.alloc(8);
      trailer.writeUInt32LE(crc >>> 0, 0);
      trailer.writeUInt32LE(uncompressedSize % 2 ** 32, 4);
      await output.write(trailer);
    },
    output,
  );
  return { digestHex: output.sha256Hex(), size: output.size, diffIdHex: diffIdHash.digest('hex'), uncompressedSize };
}

/**
 * The tar-stream header for an entry, working around what tar-stream 3 would otherwise do:
 * - it replaces a falsy mode with 0644/0755, so mode 0 would not survive: the file-type bits
 *   are OR-ed in (tar-stream masks the field with 0o7777, so they never reach the header);
 * - it does not add the trailing '/' to directory names (its check reads a field that is never
 *   set), so the name gets it here;
 * - ids above 0o777777 would be silently clamped to 777777 in the 7-digit octal field, so they
 *   go into pax `uid`/`gid` records instead;
 * - a directory whose last segment is 100 bytes or more would be split into a ustar prefix and
 *   an empty name field, so a pax header is forced (an empty `pax` object does that).
 * mtime is a Date at whole seconds (tar-stream defaults it to now when missing); uname and gname
 * are empty (tar-stream then leaves the fields zeroed). Names that fit 100 bytes, or split at a
 * '/' into 155 + 100, stay plain ustar; others (and non-ASCII ones) get tar-stream's pax header,
 * whose own fields (name "PaxHeader", mode, ids, mtime) come from this header, so it is
 * deterministic too.
 */
function tarHeader(entry: CheckedEntry, mtime: number, size: number): LayerHeader {
  const base = { uid: entry.uid, gid: entry.gid, mtime: new Date(mtime * 1000), uname: '', gname: '' };
  let header: LayerHeader;
  switch (entry.type) {
    case 'file':
      header = { ...base, name: entry.name, type: 'file', mode: entry.mode | fsConstants.S_IFREG, size };
      break;
    case 'directory':
      header = { ...base, name: `${entry.name}/`, type: 'directory', mode: entry.mode | fsConstants.S_IFDIR, size: 0 };
      break;
    case 'symlink':
      header = {
        ...base,
        name: entry.name,
        type: 'symlink',
        mode: SYMLINK_MODE | fsConstants.S_IFLNK,
        size: 0,
        linkname: entry.target,
      };
      break;
  }
  const pax: Record<string, string> = {};
  if (entry.uid > MAX_USTAR_ID) pax.uid = String(entry.uid);
  if (entry.gid > MAX_USTAR_ID) pax.gid = String(entry.gid);
  const lastSegment = entry.nameBytes.length - entry.nameBytes.lastIndexOf(0x2f) - 1;
  const emptyUstarName = entry.type === 'directory' && lastSegment >= 100;
  if (Object.keys(pax).length > 0 || emptyUstarName) header.pax = pax;
  return header;
}

/** Adds one entry and resolves once all of it (header, content, padding) is in the packer. */
async function addEntry(packer: Pack, entry: CheckedEntry, mtime: number): Promise<void> {
  if (entry.type !== 'file') {
    await addEmptyEntry(packer, tarHeader(entry, mtime, 0));
    return;
  }
  if (!isFromDisk(entry)) {
    const content = entry as LayerFileWithContent;
    const bytes = Buffer.from(content.content.buffer, content.content.byteOffset, content.content.byteLength);
    await streamEntry(packer, tarHeader(entry, mtime, bytes.byteLength), [bytes]);
    return;
  }

  let handle: FileHandle;
  try {
    handle = await open(entry.source, 'r');
  } catch (error) {
    throw sourceError(entry, error);
  }
  try {
    let size: number;
    try {
      const stats = await handle.stat();
      if (!stats.isFile()) throw notRegular(entry);
      size = stats.size;
    } catch (error) {
      throw isGociError(error) ? error : sourceError(entry, error);
    }
    await streamEntry(packer, tarHeader(entry, mtime, size), readExactly(entry, handle, size));
  } finally {
    await handle.close();
  }
}

/**
 * Reads the file from its start in bounded chunks, failing (before passing on any byte beyond
 * `size`) unless it holds exactly the `size` bytes its header already announced.
 */
async function* readExactly(
  entry: CheckedEntry & LayerFileFromDisk,
  handle: FileHandle,
  size: number,
): AsyncGenerator<Buffer> {
  let position = 0;
  for (;;) {
    const buffer = Buffer.allocUnsafe(READ_CHUNK);
    let bytesRead: number;
    try {
      ({ bytesRead } = await handle.read(buffer, 0, READ_CHUNK, position));
    } catch (error) {
      throw sourceError(entry, error);
    }
    if (bytesRead === 0) break;
    position += bytesRead;
    if (position > size) break;
    yield buffer.subarray(0, bytesRead);
  }
  if (position !== size) {
    throw new GociError(
      'IO_FAILED',
      `layer file ${entry.name}: ${entry.source} changed size while it was being written into the layer (${size} bytes when opened, ${position > size ? 'more' : position} when read)`,
      { hint: 'make sure nothing else writes the build outputs while the image is assembled' },
    );
  }
}
