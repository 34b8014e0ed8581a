import { createReadStream } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { posix } from 'node:path';
import { Readable } from 'node:stream';
import { displayPath } from '../common/display-path.js';
import { GociError } from '../common/errors.js';
import type { Descriptor } from '../oci/descriptor.js';
import { blobSize, objectOf, readJsonBlob, readSmallBlob, type ImageFiles } from './image-files.js';
import {
  diffIdsOf,
  imagesUnder,
  platformName,
  readLayoutIndex,
  type StoredImage,
  type StoredImageSet,
} from './read-layout.js';

/**
 * A tar holding an image, read in place: `oci-archive:` (an OCI layout in a tar) and
 * `docker-archive:` (manifest.json, configs and layer files, as `docker save` writes it).
 * goci's --tarball is both. Only the 512-byte headers are read to index it; a file's bytes are
 * read from its offset when asked for, so nothing is unpacked and memory stays bounded.
 */

type TarEntry = { kind: 'file'; offset: number; size: number } | { kind: 'symlink' | 'hardlink'; target: string };

const BLOCK = 512;
/** A pax or GNU long-name record longer than this is not a path. */
const MAX_LONG_HEADER = 1 << 20;
const MAX_LINK_HOPS = 16;

/** `name`, `./name` and `/name` are the same member. */
function memberPath(name: string): string {
  const normal = posix.normalize(`/${name}`).slice(1);
  return normal.endsWith('/') ? normal.slice(0, -1) : normal;
}

/** The files of the tar at `file`, indexed by reading its headers. */
export async function archiveFiles(file: string, transport: string): Promise<ImageFiles> {
  const description = `the archive ${displayPath(file)}`;
  let handle: FileHandle;
  try {
    handle = await open(file, 'r');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      throw new GociError('NOT_FOUND', `archive ${displayPath(file)} does not exist`, {
        hint: `${transport}:FILE names a tar, such as the one goci build --tarball writes`,
      });
    }
    throw new GociError(
      'IO_FAILED',
      `cannot read the archive ${displayPath(file)}: ${code ?? (error as Error).message}`,
      { cause: error },
    );
  }
  let entries: Map<string, TarEntry>;
  try {
    const stats = await handle.stat();
    if (stats.isDirectory()) {
      throw new GociError('BAD_ARGUMENT', `archive ${displayPath(file)} is a directory`, {
        hint: 'for an OCI layout directory, write oci:DIR[:TAG]',
      });
    }
    entries = await indexTar(handle, stats.size, description);
  } finally {
    await handle.close();
  }

  const resolve = (path: string): { offset: number; size: number } | undefined => {
    let name = memberPath(path);
    for (let hop = 0; hop <= MAX_LINK_HOPS; hop++) {
      const entry = entries.get(name);
      if (entry === undefined) return undefined;
      if (entry.kind === 'file') return entry;
      name = memberPath(
        entry.kind === 'symlink' && !entry.target.startsWith('/')
          ? posix.join(posix.dirname(name), entry.target)
          : entry.target,
      );
    }
    return undefined;
  };
  const member = (path: string): { offset: number; size: number } => {
    const entry = resolve(path);
    if (entry === undefined) throw new GociError('NOT_FOUND', `${path} is missing from ${description}`);
    return entry;
  };

  return {
    description,
    location: displayPath(file),
    async size(path) {
      return resolve(path)?.size;
    },
    async read(path, start, length) {
      const entry = member(path);
      const wanted = Math.max(0, Math.min(length, entry.size - start));
      const reading = await open(file, 'r');
      try {
        const buffer = Buffer.alloc(wanted);
        let filled = 0;
        while (filled < wanted) {
          const { bytesRead } = await reading.read(buffer, filled, wanted - filled, entry.offset + start + filled);
          if (bytesRead === 0)
            throw new GociError('IO_FAILED', `${description} ended inside ${path}: it was changed while it was read`);
          filled += bytesRead;
        }
        return buffer;
      } finally {
        await reading.close();
      }
    },
    stream(path) {
      const entry = member(path);
      if (entry.size === 0) return Readable.from([]);
      return createReadStream(file, {
        start: entry.offset,
        end: entry.offset + entry.size - 1,
        highWaterMark: 1 << 20,
      });
    },
  };
}

async function indexTar(handle: FileHandle, fileSize: number, description: string): Promise<Map<string, TarEntry>> {
  const entries = new Map<string, TarEntry>();
  const notTar = (why: string): GociError =>
    new GociError('BAD_ARGUMENT', `${description} is not a tar archive: ${why}`, {
      hint: 'give a tar written by goci build --tarball, docker save or skopeo copy',
    });
  const damaged = (why: string): GociError =>
    new GociError('IO_FAILED', `${description} is damaged: ${why}`, { hint: 'write or copy it again' });

  const readAt = async (position: number, length: number): Promise<Buffer> => {
    const buffer = Buffer.alloc(length);
    let filled = 0;
    while (filled < length) {
      const { bytesRead } = await handle.read(buffer, filled, length - filled, position + filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    return buffer.subarray(0, filled);
  };

  let offset = 0;
  let longName: string | undefined;
  let longLink: string | undefined;
  let pax: Record<string, string> = {};
  for (let first = true; ; first = false) {
    const header = await readAt(offset, BLOCK);
    if (header.length === 0 && !first) break; // no end-of-archive blocks: tolerated, as GNU tar does
    if (header.length < BLOCK)
      throw first
        ? notTar('it is shorter than one tar header')
        : damaged(`it ends inside the header at byte ${offset}`);
    if (header.every((byte) => byte === 0)) {
      if (first) throw notTar('it starts with an empty block');
      break;
    }
    if (first && header[0] === 0x1f && header[1] === 0x8b) {
      throw new GociError('BAD_ARGUMENT', `${description} is gzip-compressed`, {
        hint: 'goci reads uncompressed tars: gunzip it first',
      });
    }
    if (!checksumMatches(header))
      throw first
        ? notTar('its first header has a bad checksum')
        : damaged(`the header at byte ${offset} has a bad checksum`);

    const size = numeric(header, 124, 12);
    const type = String.fromCharCode(header[156]!);
    const extended = type === 'x' || type === 'g' || type === 'L' || type === 'K';
    const dataOffset = offset + BLOCK;
    const recordedSize = !extended && pax.size !== undefined ? Number.parseInt(pax.size, 10) : size;
    if (!Number.isSafeInteger(recordedSize) || recordedSize < 0)
      throw damaged(`the header at byte ${offset} has an invalid size`);
    if (dataOffset + recordedSize > fileSize) throw damaged(`it ends inside the member at byte ${offset}`);
    const next = dataOffset + Math.ceil(recordedSize / BLOCK) * BLOCK;

    if (extended) {
      if (recordedSize > MAX_LONG_HEADER)
        throw damaged(`the extended header at byte ${offset} is ${recordedSize} bytes long`);
      const data = await readAt(dataOffset, recordedSize);
      if (type === 'x') pax = { ...pax, ...paxRecords(data) };
      else if (type === 'L') longName = cString(data, 0, data.length);
      else if (type === 'K') longLink = cString(data, 0, data.length);
      // 'g' (global pax) carries nothing a member's location depends on.
      offset = next;
      continue;
    }

    const magic = header.subarray(257, 263).toString('latin1');
    const prefix = magic === 'ustar\0' ? cString(header, 345, 155) : '';
    const headerName = cString(header, 0, 100);
    const name = memberPath(pax.path ?? longName ?? (prefix ? `${prefix}/${headerName}` : headerName));
    const link = pax.linkpath ?? longLink ?? cString(header, 157, 100);
    if (type === '0' || type === '\0' || type === '7')
      entries.set(name, { kind: 'file', offset: dataOffset, size: recordedSize });
    else if (type === '2') entries.set(name, { kind: 'symlink', target: link });
    else if (type === '1') entries.set(name, { kind: 'hardlink', target: link });
    else entries.delete(name);
    pax = {};
    longName = undefined;
    longLink = undefined;
    offset = next;
  }
  return entries;
}

/** The header's checksum, as unsigned bytes (POSIX) or signed ones (some old tars). */
function checksumMatches(header: Buffer): boolean {
  let unsigned = 0;
  let signed = 0;
  for (let index = 0; index < BLOCK; index++) {
    const byte = index >= 148 && index < 156 ? 0x20 : header[index]!;
    unsigned += byte;
    signed += byte > 127 ? byte - 256 : byte;
  }
  const recorded = numeric(header, 148, 8);
  return recorded === unsigned || recorded === signed;
}

/** An octal field, or a base-256 one (high bit set), as GNU tar writes sizes over 8 GiB. */
function numeric(header: Buffer, start: number, length: number): number {
  if (header[start]! & 0x80) {
    let value = header[start]! & 0x7f;
    for (let index = start + 1; index < start + length; index++) value = value * 256 + header[index]!;
    return value;
  }
  const text =
    header
      .subarray(start, start + length)
      .toString('latin1')
      .replace(/[\0 ]+/g, ' ')
      .trim()
      .split(' ')[0] ?? '';
  return text === '' ? 0 : Number.parseInt(text, 8);
}

function cString(buffer: Buffer, start: number, length: number): string {
  const field = buffer.subarray(start, start + length);
  const end = field.indexOf(0);
  return field.subarray(0, end === -1 ? field.length : end).toString('utf8');
}

/** `<length> <key>=<value>\n` records. */
function paxRecords(data: Buffer): Record<string, string> {
  const records: Record<string, string> = {};
  let position = 0;
  while (position < data.length) {
    const space = data.indexOf(0x20, position);
    if (space === -1) break;
    const length = Number.parseInt(data.subarray(position, space).toString('latin1'), 10);
    if (!(length > 0) || position + length > data.length) break;
    const record = data.subarray(space + 1, position + length - 1).toString('utf8');
    const equals = record.indexOf('=');
    if (equals > 0) records[record.slice(0, equals)] = record.slice(equals + 1);
    position += length;
  }
  return records;
}

// ---------------------------------------------------------------------------------------------
// docker-archive

interface DockerArchiveEntry {
  Config: string;
  RepoTags: string[];
  Layers: string[];
}

/** `blobs/sha256/<hex>` (goci, Docker 25+) names a blob by its digest; `<id>/layer.tar` (older Docker) does not. */
const NAMED_BY_DIGEST = /(?:^|\/)blobs\/sha256\/([0-9a-f]{64})$/;
/** Older `docker save` names the config `<hex>.json`, hex being its digest (the image ID). */
const CONFIG_NAMED_BY_DIGEST = /(?:^|\/)([0-9a-f]{64})\.json$/;

/**
 * The image `name` picks from a docker archive's manifest.json: a RepoTag (`hello:1.2.3`),
 * `@N` (the N-th image, from 0), or nothing when the archive holds one image. When the tar is
 * also an OCI layout (goci's tarball, `docker save` of Docker 25+), the manifest whose config
 * is this image's config is reported with it, so the answer is the one `oci-archive:` gives.
 */
export async function readDockerArchive(
  files: ImageFiles,
  name: string | undefined,
  withName: (name: string) => string,
): Promise<StoredImageSet> {
  const entries = await readDockerManifest(files);
  const names = entries.flatMap((entry, index) => (entry.RepoTags.length > 0 ? entry.RepoTags : [`@${index}`]));
  let chosen: DockerArchiveEntry | undefined;
  let chosenName: string | undefined;
  if (name === undefined) {
    if (entries.length !== 1) {
      throw new GociError(
        'BAD_ARGUMENT',
        `${files.description} holds ${entries.length} images (${names.join(', ') || 'none'}); name one`,
        {
          hint: `add its name or @index, such as ${withName(names[0] ?? '@0')}`,
        },
      );
    }
    chosen = entries[0]!;
    chosenName = chosen.RepoTags[0];
  } else {
    const position = /^@(\d+)$/.exec(name);
    const wanted = normalName(name);
    chosen = position
      ? entries[Number(position[1])]
      : entries.find((entry) => entry.RepoTags.some((tag) => normalName(tag) === wanted));
    chosenName = name;
    if (chosen === undefined) {
      throw new GociError(
        'NOT_FOUND',
        `image ${JSON.stringify(name)} is not in ${files.description} (its images: ${names.join(', ') || 'none'})`,
        {
          hint: `name one of them, such as ${withName(names[0] ?? '@0')}`,
        },
      );
    }
  }

  const configRole = 'config of the image';
  const named = NAMED_BY_DIGEST.exec(chosen.Config) ?? CONFIG_NAMED_BY_DIGEST.exec(chosen.Config);
  const config = await readJsonBlob(
    files,
    memberPath(chosen.Config),
    named ? { digest: `sha256:${named[1]}` } : {},
    configRole,
  );
  const document = objectOf(config.document, `${configRole} ${chosen.Config}`, files);
  const platform = platformName(document as { os?: string; architecture?: string; variant?: string }) ?? 'the image';
  const diffIds = diffIdsOf(document);
  if (diffIds.length !== chosen.Layers.length) {
    throw new GociError(
      'IO_FAILED',
      `the config ${config.digest} in ${files.description} lists ${diffIds.length} layers (rootfs.diff_ids) where manifest.json lists ${chosen.Layers.length}`,
    );
  }
  const layers = await Promise.all(
    chosen.Layers.map(async (layerPath, index) => {
      const path = memberPath(layerPath);
      const role = `layer ${index + 1} of ${platform}`;
      const digest = NAMED_BY_DIGEST.exec(path)?.[1];
      return {
        path,
        size: await blobSize(files, path, {}, role),
        ...(digest ? { digest: `sha256:${digest}` } : {}),
        diffId: diffIds[index]!,
        role,
      };
    }),
  );
  const manifest = await ociManifestFor(files, config.digest);
  const image: StoredImage = {
    ...(manifest ? { manifest } : {}),
    config: { digest: config.digest, size: config.size, document },
    layers,
    name: platform,
  };
  return { ...(chosenName === undefined ? {} : { tag: chosenName }), images: [image] };
}

/**
 * A RepoTag as Docker normalises it, so `hello:1.2.3` and `docker.io/library/hello:1.2.3`
 * (as skopeo writes it) are one name: Docker Hub's domain and `library/` filled in, `:latest`
 * when there is no tag.
 */
function normalName(name: string): string {
  const slash = name.lastIndexOf('/');
  const colon = name.lastIndexOf(':');
  const tagged = name.includes('@') || colon > slash ? name : `${name}:latest`;
  const first = tagged.split('/')[0]!;
  const hasDomain = tagged.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost');
  if (hasDomain) return tagged;
  return tagged.includes('/') ? `docker.io/${tagged}` : `docker.io/library/${tagged}`;
}

async function readDockerManifest(files: ImageFiles): Promise<DockerArchiveEntry[]> {
  if ((await files.size('manifest.json')) === undefined) {
    throw new GociError('NOT_FOUND', `${files.location} is not a docker archive: it has no manifest.json`, {
      hint: 'for an OCI layout in a tar, write oci-archive:FILE[:TAG]',
    });
  }
  const { bytes } = await readSmallBlob(files, 'manifest.json', {}, 'manifest.json');
  let document: unknown;
  try {
    document = JSON.parse(bytes.toString('utf8'));
  } catch (error) {
    throw new GociError('IO_FAILED', `manifest.json of ${files.description} is not JSON: ${(error as Error).message}`, {
      cause: error,
    });
  }
  if (!Array.isArray(document))
    throw new GociError('IO_FAILED', `manifest.json of ${files.description} is not a list of images`);
  return document.map((item: unknown, index) => {
    const entry = objectOf(item, `image ${index} of manifest.json`, files);
    const layers = entry.Layers;
    if (
      typeof entry.Config !== 'string' ||
      !Array.isArray(layers) ||
      !layers.every((layer) => typeof layer === 'string')
    ) {
      throw new GociError(
        'IO_FAILED',
        `image ${index} of manifest.json in ${files.description} has no Config and Layers`,
      );
    }
    const tags = Array.isArray(entry.RepoTags)
      ? entry.RepoTags.filter((tag): tag is string => typeof tag === 'string')
      : [];
    return { Config: entry.Config, RepoTags: tags, Layers: layers as string[] };
  });
}

/** The OCI manifest (digest and size) of the tar's own OCI layout that uses this config, if the tar is one. */
async function ociManifestFor(
  files: ImageFiles,
  configDigest: string,
): Promise<{ digest: string; size: number } | undefined> {
  if ((await files.size('index.json')) === undefined) return undefined;
  const tagged: Descriptor[] = await readLayoutIndex(files);
  for (const descriptor of tagged) {
    const { images } = await imagesUnder(files, descriptor);
    const match = images.find((image) => image.config.digest === configDigest);
    if (match?.manifest) return match.manifest;
  }
  return undefined;
}
