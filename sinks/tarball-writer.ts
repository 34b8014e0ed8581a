import { createHash } from 'node:crypto';
import { constants as fsConstants } from 'node:fs';
import { mkdir, open, rename, rm, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Pack } from 'tar-stream';
import { temporarySibling } from '../common/atomic.js';
import { GociError, isGociError } from '../common/errors.js';
import { canonicalJson, type Descriptor, type OciPlatform } from '../oci/descriptor.js';
import type { ImageManifest } from '../oci/manifest.js';
import { MEDIA_TYPES } from '../oci/media-types.js';
import { REF_NAME, blobPath } from '../oci/layout.js';
import { HashedOutput, addEmptyEntry, packTar, streamEntry, type PackHeader } from '../images/tar-pack.js';

/**
 * The repository and tag the tarball carries: `RepoTags` of the Docker `manifest.json`
 * (`<repository>:<tag>`) and the `org.opencontainers.image.ref.name` of the OCI index
 * (the tag alone, as goci's OCI layout sink writes it, so `oci-archive:<tar>:<tag>` finds it).
 */
export interface TarballTag {
  repository: string;
  tag: string;
}

export interface TarballResult {
  path: string;
  /** Lowercase hex SHA-256 of the tarball, computed from the bytes as they were written. */
  sha256: string;
  size: number;
}

/** A blob the index reaches, in the order it was first met. */
interface ReachedBlob {
  hex: string;
  size: number;
  /** What it is, for error messages ("layer of linux/arm64", "config of ..."). */
  role: string;
}

/** A tar entry: a directory, a small generated file, or a blob streamed from the layout. */
type TarEntry =
  | { kind: 'directory'; name: string }
  | { kind: 'content'; name: string; bytes: Buffer }
  | { kind: 'blob'; name: string; blob: ReachedBlob; path: string };

const FILE_MODE = 0o644;
const DIRECTORY_MODE = 0o755;
const LAYOUT_FILE = { imageLayoutVersion: '1.0.0' };
/** Manifests and indexes are read whole to be walked; anything this large is not one. */
const MAX_JSON_BLOB = 4 << 20;
const READ_CHUNK = 1 << 20;
const INDEX_TYPES = new Set([MEDIA_TYPES.oci.index, MEDIA_TYPES.docker.index]);
const MANIFEST_TYPES = new Set([MEDIA_TYPES.oci.manifest, MEDIA_TYPES.docker.manifest]);

/**
 * Writes one uncompressed tar that is at the same time
 * - an OCI image layout: `oci-layout`, `index.json` naming `index` by `tag.tag`, and
 *   `blobs/sha256/<hex>` for every blob `index` reaches (indexes, manifests, configs, layers),
 *   so skopeo (`oci-archive:`), umoci and containerd read every platform; and
 * - a Docker archive: `manifest.json` lists the config and layers of the ONE image in `images`
 *   whose platform is `loadPlatform`, as `blobs/sha256/...` paths, with RepoTags
 *   `<repository>:<tag>`, so `docker load` (whose 20.10 image store holds one platform per
 *   name) loads that platform. Layers stay gzip-compressed: `docker load` decompresses them.
 *
 * Deterministic: entries sorted by name (byte order), mtime 0, uid/gid 0, no user or group
 * names, mode 0644 for files and 0755 for directories, canonical JSON. The same layout and
 * arguments give the same bytes.
 *
 * Bounded memory: blobs are streamed from `layoutDir` into the tar and their digests checked
 * on the way. The tar is written to a temporary sibling of `finalPath` and renamed into place
 * only when complete; on any failure nothing is left behind (an existing file at `finalPath`
 * is kept) and the error is a GociError.
 */
export async function writeTarball(
  finalPath: string,
  layoutDir: string,
  tag: TarballTag,
  images: ImageManifest[],
  index: Descriptor,
  loadPlatform: OciPlatform,
): Promise<TarballResult> {
  checkTag(tag);
  const loaded = pickPlatform(images, loadPlatform);
  const reached = await reachableBlobs(layoutDir, index);
  for (const [digest, what] of [
    [loaded.manifest.digest, 'manifest'],
    [loaded.config.digest, 'config'],
    ...loaded.layers.map((layer) => [layer.digest, 'layer'] as const),
  ] as const) {
    if (!reached.has(hexOf(digest))) {
      throw new GociError(
        'BAD_ARGUMENT',
        `the ${what} ${digest} of the ${showPlatform(loaded.platform)} image is not reachable from ${index.digest}, the index the tarball is written for`,
      );
    }
  }

  const entries = tarEntries(layoutDir, tag, reached, index, loaded);

  let tmp: string | undefined;
  let output: FileHandle | undefined;
  try {
    await mkdir(dirname(finalPath), { recursive: true });
    tmp = temporarySibling(finalPath);
    output = await open(tmp, 'wx', FILE_MODE);
    const written = await writeTar(entries, output);
    const closing = output;
    output = undefined;
    await closing.close();
    await rename(tmp, finalPath);
    tmp = undefined;
    return { path: finalPath, ...written };
  } catch (error) {
    if (output !== undefined) await output.close().catch(() => undefined);
    if (tmp !== undefined) await rm(tmp, { force: true }).catch(() => undefined);
    if (isGociError(error)) throw error;
    throw new GociError('IO_FAILED', `cannot write image tarball ${finalPath}: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

// ---------------------------------------------------------------------------------------------
// Arguments

/** The reference grammar of distribution/reference, which `docker load` parses RepoTags with. */
const REPOSITORY_COMPONENT = '[a-z0-9]+(?:(?:[._]|__|[-]*)[a-z0-9]+)*';
const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN = `(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*(?::[0-9]+)?)`;
const REPOSITORY = new RegExp(`^(?:${DOMAIN}/)?${REPOSITORY_COMPONENT}(?:/${REPOSITORY_COMPONENT})*$`);
const TAG = /^[\w][\w.-]{0,127}$/;

function checkTag(tag: TarballTag): void {
  if (typeof tag?.repository !== 'string' || !REPOSITORY.test(tag.repository) || tag.repository.length > 255) {
    throw new GociError(
      'BAD_ARGUMENT',
      `image tarball repository ${JSON.stringify(tag?.repository)} is not a valid repository name`,
      {
        hint: "use lowercase letters, digits and separators, optionally after a registry host, such as 'example.com/team/hello'",
      },
    );
  }
  if (typeof tag.tag !== 'string' || !TAG.test(tag.tag)) {
    throw new GociError('BAD_ARGUMENT', `image tarball tag ${JSON.stringify(tag.tag)} is not a valid tag`, {
      hint: "a tag is up to 128 letters, digits, '_', '.' and '-', not starting with '.' or '-', such as '1.2.3'",
    });
  }
}

function showPlatform(platform: OciPlatform): string {
  return `${platform.os}/${platform.architecture}${platform.variant ? `/${platform.variant}` : ''}`;
}

/**
 * The image to name in manifest.json: the one whose platform is exactly `loadPlatform`, or,
 * when `loadPlatform` has no variant, the only one with its os and architecture.
 */
function pickPlatform(images: ImageManifest[], loadPlatform: OciPlatform): ImageManifest {
  const exact = images.filter(
    (image) =>
      image.platform.os === loadPlatform.os &&
      image.platform.architecture === loadPlatform.architecture &&
      (image.platform.variant ?? '') === (loadPlatform.variant ?? ''),
  );
  if (exact.length === 1) return exact[0]!;
  const loose = loadPlatform.variant
    ? []
    : images.filter(
        (image) => image.platform.os === loadPlatform.os && image.platform.architecture === loadPlatform.architecture,
      );
  if (exact.length === 0 && loose.length === 1) return loose[0]!;
  const available = images.map((image) => showPlatform(image.platform)).join(', ') || 'none';
  if (exact.length > 1 || loose.length > 1) {
    throw new GociError(
      'BAD_ARGUMENT',
      `more than one image is for ${showPlatform(loadPlatform)} (images: ${available}), so the tarball cannot name one for docker load`,
    );
  }
  throw new GociError(
    'BAD_ARGUMENT',
    `no image is for ${showPlatform(loadPlatform)}, the platform to load into Docker (images: ${available})`,
    {
      hint: 'choose one of the platforms that were built',
    },
  );
}

function hexOf(digest: string): string {
  const match = /^sha256:([0-9a-f]{64})$/.exec(digest);
  if (match === null) {
    throw new GociError('BAD_ARGUMENT', `digest ${JSON.stringify(digest)} is not sha256:<64 lowercase hex digits>`);
  }
  return match[1]!;
}

// ---------------------------------------------------------------------------------------------
// Walking the layout from the index

function missingBlob(layoutDir: string, digest: string, role: string, error: unknown): GociError {
  if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
    return new GociError('NOT_FOUND', `blob ${digest} (${role}) is missing from the OCI layout ${layoutDir}`, {
      hint: 'write the image into the layout again before writing the tarball',
      cause: error,
    });
  }
  return new GociError(
    'IO_FAILED',
    `cannot read blob ${digest} (${role}) from the OCI layout ${layoutDir}: ${(error as Error).message}`,
    { cause: error },
  );
}

/** Reads a manifest or index blob whole (they are small), checking its size and digest. */
async function readJsonBlob(layoutDir: string, descriptor: Descriptor, role: string): Promise<unknown> {
  if (descriptor.size > MAX_JSON_BLOB) {
    throw new GociError(
      'BAD_ARGUMENT',
      `${role} ${descriptor.digest} claims ${descriptor.size} bytes, too large for a manifest or index`,
    );
  }
  let handle: FileHandle;
  try {
    handle = await open(blobPath(layoutDir, descriptor.digest), 'r');
  } catch (error) {
    throw missingBlob(layoutDir, descriptor.digest, role, error);
  }
  let bytes: Buffer;
  try {
    const size = (await handle.stat()).size;
    if (size !== descriptor.size) throw sizeMismatch(layoutDir, descriptor, role, size);
    bytes = Buffer.alloc(size);
    let offset = 0;
    while (offset < size) {
      const { bytesRead } = await handle.read(bytes, offset, size - offset, offset);
      if (bytesRead === 0) break;
      offset += bytesRead;
    }
    if (offset !== size) throw sizeMismatch(layoutDir, descriptor, role, offset);
  } catch (error) {
    throw isGociError(error) ? error : missingBlob(layoutDir, descriptor.digest, role, error);
  } finally {
    await handle.close();
  }
  const actual = createHash('sha256').update(bytes).digest('hex');
  if (actual !== hexOf(descriptor.digest)) throw digestMismatch(layoutDir, descriptor.digest, role, actual);
  try {
    return JSON.parse(bytes.toString('utf8')) as unknown;
  } catch (error) {
    throw new GociError(
      'BAD_ARGUMENT',
      `${role} ${descriptor.digest} in ${layoutDir} is not JSON: ${(error as Error).message}`,
    );
  }
}

function sizeMismatch(layoutDir: string, descriptor: Descriptor, role: string, actual: number): GociError {
  return new GociError(
    'IO_FAILED',
    `blob ${descriptor.digest} (${role}) in ${layoutDir} holds ${actual} bytes, but its descriptor says ${descriptor.size}`,
    {
      hint: 'the layout is damaged: write the image into it again',
    },
  );
}

function digestMismatch(layoutDir: string, digest: string, role: string, actualHex: string): GociError {
  return new GociError(
    'IO_FAILED',
    `blob ${digest} (${role}) in ${layoutDir} has content with digest sha256:${actualHex}`,
    {
      hint: 'the layout is damaged: write the image into it again',
    },
  );
}

function descriptorsIn(document: unknown, field: 'manifests' | 'layers', role: string, digest: string): Descriptor[] {
  const list = (document as Record<string, unknown> | null)?.[field];
  if (!Array.isArray(list)) throw new GociError('BAD_ARGUMENT', `${role} ${digest} has no ${field} list`);
  return list.map((entry) => checkDescriptor(entry, `${field} entry of ${role} ${digest}`));
}

function checkDescriptor(value: unknown, where: string): Descriptor {
  const record = value as Partial<Descriptor> | null;
  if (
    record === null ||
    typeof record !== 'object' ||
    typeof record.digest !== 'string' ||
    typeof record.mediaType !== 'string' ||
    !Number.isSafeInteger(record.size) ||
    (record.size as number) < 0
  ) {
    throw new GociError('BAD_ARGUMENT', `the ${where} is not a descriptor with mediaType, digest and size`);
  }
  hexOf(record.digest);
  return record as Descriptor;
}

/**
 * Every blob `index` reaches: itself, and for an index its manifests, for a manifest its
 * config and layers (any other media type is a leaf). JSON documents are read and verified
 * now; configs and layers are only checked to exist with the right size (their digests are
 * checked while they are streamed into the tar).
 */
async function reachableBlobs(layoutDir: string, index: Descriptor): Promise<Map<string, ReachedBlob>> {
  const reached = new Map<string, ReachedBlob>();

  /** `image` names the image a manifest, config or layer belongs to, for messages: "the linux/arm64 image". */
  async function visit(descriptor: Descriptor, role: string, image: string): Promise<void> {
    const hex = hexOf(descriptor.digest);
    const seen = reached.get(hex);
    if (seen !== undefined) {
      if (seen.size !== descriptor.size) {
        throw new GociError(
          'BAD_ARGUMENT',
          `blob ${descriptor.digest} is described with two sizes, ${seen.size} and ${descriptor.size}`,
        );
      }
      return;
    }
    reached.set(hex, { hex, size: descriptor.size, role });
    if (INDEX_TYPES.has(descriptor.mediaType)) {
      const document = await readJsonBlob(layoutDir, descriptor, role);
      for (const entry of descriptorsIn(document, 'manifests', role, descriptor.digest)) {
        const child = entry.platform ? `the ${showPlatform(entry.platform)} image` : `the image ${entry.digest}`;
        await visit(entry, `manifest of ${child}`, child);
      }
    } else if (MANIFEST_TYPES.has(descriptor.mediaType)) {
      const document = await readJsonBlob(layoutDir, descriptor, role);
      const config = checkDescriptor(
        (document as Record<string, unknown> | null)?.config,
        `config of ${role} ${descriptor.digest}`,
      );
      await visit(config, `config of ${image}`, image);
      for (const layer of descriptorsIn(document, 'layers', role, descriptor.digest))
        await visit(layer, `layer of ${image}`, image);
    } else {
      await checkLeaf(layoutDir, descriptor, role);
    }
  }

  const top = checkDescriptor(index, 'index descriptor');
  if (INDEX_TYPES.has(top.mediaType)) await visit(top, 'index', 'the image');
  else {
    const image = top.platform ? `the ${showPlatform(top.platform)} image` : 'the image';
    await visit(top, `manifest of ${image}`, image);
  }
  return reached;
}

async function checkLeaf(layoutDir: string, descriptor: Descriptor, role: string): Promise<void> {
  let handle: FileHandle;
  try {
    handle = await open(blobPath(layoutDir, descriptor.digest), 'r');
  } catch (error) {
    throw missingBlob(layoutDir, descriptor.digest, role, error);
  }
  try {
    const stats = await handle.stat();
    if (!stats.isFile())
      throw new GociError('IO_FAILED', `blob ${descriptor.digest} (${role}) in ${layoutDir} is not a regular file`);
    if (stats.size !== descriptor.size) throw sizeMismatch(layoutDir, descriptor, role, stats.size);
  } finally {
    await handle.close();
  }
}

// ---------------------------------------------------------------------------------------------
// The tar

function tarEntries(
  layoutDir: string,
  tag: TarballTag,
  reached: Map<string, ReachedBlob>,
  index: Descriptor,
  loaded: ImageManifest,
): TarEntry[] {
  const layoutIndex = {
    schemaVersion: 2,
    mediaType: MEDIA_TYPES.oci.index,
    manifests: [{ ...index, annotations: { ...index.annotations, [REF_NAME]: tag.tag } }],
  };
  // Docker writes these keys in this order; kept so the file reads like `docker save` output.
  const dockerManifest = [
    {
      Config: `blobs/sha256/${hexOf(loaded.config.digest)}`,
      RepoTags: [`${tag.repository}:${tag.tag}`],
      Layers: loaded.layers.map((layer) => `blobs/sha256/${hexOf(layer.digest)}`),
    },
  ];
  const entries: TarEntry[] = [
    { kind: 'directory', name: 'blobs/' },
    { kind: 'directory', name: 'blobs/sha256/' },
    { kind: 'content', name: 'oci-layout', bytes: Buffer.from(canonicalJson(LAYOUT_FILE), 'utf8') },
    { kind: 'content', name: 'index.json', bytes: Buffer.from(canonicalJson(layoutIndex), 'utf8') },
    { kind: 'content', name: 'manifest.json', bytes: Buffer.from(JSON.stringify(dockerManifest), 'utf8') },
    ...[...reached.values()].map(
      (blob): TarEntry => ({
        kind: 'blob',
        name: `blobs/sha256/${blob.hex}`,
        blob,
        path: blobPath(layoutDir, `sha256:${blob.hex}`),
      }),
    ),
  ];
  return entries.sort((a, b) => Buffer.compare(Buffer.from(a.name, 'utf8'), Buffer.from(b.name, 'utf8')));
}

function header(entry: TarEntry, size: number): PackHeader {
  const base = { name: entry.name, mtime: new Date(0), uid: 0, gid: 0, uname: '', gname: '' };
  if (entry.kind === 'directory')
    return { ...base, type: 'directory', mode: DIRECTORY_MODE | fsConstants.S_IFDIR, size: 0 };
  return { ...base, type: 'file', mode: FILE_MODE | fsConstants.S_IFREG, size };
}

/** Packs the entries into `handle`, returning the sha256 and size of exactly the bytes written. */
async function writeTar(entries: readonly TarEntry[], handle: FileHandle): Promise<{ sha256: string; size: number }> {
  const output = new HashedOutput(handle);
  await packTar(
    entries,
    addEntry,
    async (tar) => {
      for await (const chunk of tar) await output.write(chunk);
    },
    output,
  );
  return { sha256: output.sha256Hex(), size: output.size };
}

async function addEntry(packer: Pack, entry: TarEntry): Promise<void> {
  switch (entry.kind) {
    case 'directory':
      await addEmptyEntry(packer, header(entry, 0));
      return;
    case 'content':
      await streamEntry(packer, header(entry, entry.bytes.byteLength), [entry.bytes]);
      return;
    case 'blob': {
      let handle: FileHandle;
      try {
        handle = await open(entry.path, 'r');
      } catch (error) {
        throw missingBlob(dirname(dirname(dirname(entry.path))), `sha256:${entry.blob.hex}`, entry.blob.role, error);
      }
      try {
        await streamEntry(packer, header(entry, entry.blob.size), verifiedBlob(entry, handle));
      } finally {
        await handle.close();
      }
    }
  }
}

/**
 * The blob's bytes in bounded chunks, failing before the tar is finished unless the file holds
 * exactly the size its header announced and hashes to its name.
 */
async function* verifiedBlob(entry: TarEntry & { kind: 'blob' }, handle: FileHandle): AsyncGenerator<Buffer> {
  const layoutDir = dirname(dirname(dirname(entry.path)));
  const digest = `sha256:${entry.blob.hex}`;
  const hash = createHash('sha256');
  let position = 0;
  for (;;) {
    const buffer = Buffer.allocUnsafe(READ_CHUNK);
    let bytesRead: number;
    try {
      ({ bytesRead } = await handle.read(buffer, 0, READ_CHUNK, position));
    } catch (error) {
      throw missingBlob(layoutDir, digest, entry.blob.role, error);
    }
    if (bytesRead === 0) break;
    position += bytesRead;
    if (position > entry.blob.size) break;
    const chunk = buffer.subarray(0, bytesRead);
    hash.update(chunk);
    yield chunk;
  }
  if (position !== entry.blob.size) {
    throw new GociError(
      'IO_FAILED',
      `blob ${digest} (${entry.blob.role}) in ${layoutDir} changed size while it was written into the tarball`,
    );
  }
  const actual = hash.digest('hex');
  if (actual !== entry.blob.hex) throw digestMismatch(layoutDir, digest, entry.blob.role, actual);
}
