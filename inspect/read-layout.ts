import { stat } from 'node:fs/promises';
import { displayPath } from '../common/display-path.js';
import { GociError } from '../common/errors.js';
import type { Descriptor, OciPlatform } from '../oci/descriptor.js';
import { blobFile, directoryFiles, objectOf, readJsonBlob, MAX_JSON_BLOB, type ImageFiles } from './image-files.js';
import { REF_NAME } from '../oci/layout.js';
import { isReferrersTag } from '../oci/artifact.js';

/** One platform's image as its source stores it. Every document in it was verified against its digest. */
export interface StoredImage {
  /** Absent when the source has no manifest for it (a docker archive names only config and layers). */
  manifest?: { digest: string; size: number };
  config: { digest: string; size: number; document: Record<string, unknown> };
  /** Bottom first, as the manifest lists them. */
  layers: StoredLayer[];
  /** os/arch[/variant], for messages. */
  name: string;
}

/** A layer blob: where it is and what it must hash to. Layers are big, so they are read only when needed. */
export interface StoredLayer {
  path: string;
  size: number;
  /** The blob's own digest, when the source names it. */
  digest?: string;
  /** The digest of the uncompressed tar (the config's rootfs.diff_ids). */
  diffId?: string;
  /** What it is, for messages: `layer 2 of linux/amd64`. */
  role: string;
}

/** What a reference names: one image or an index of several. */
export interface StoredImageSet {
  /** The tag (or name) the image was chosen by, when it has one. */
  tag?: string;
  /** The image index, when the reference names one. */
  index?: { digest: string; size: number };
  images: StoredImage[];
}

const INDEX_TYPES = new Set([
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
]);
/** Indexes inside indexes are legal; anything this deep is a loop or a mistake. */
const MAX_INDEX_DEPTH = 4;
/** BuildKit's attestation manifests sit in the index next to the platform images; they are not images. */
const REFERENCE_TYPE = 'vnd.docker.reference.type';

/** How a reference spells the source with a tag, for hints: `oci:dist/oci:1.2.3`. */
export type ReferenceWithTag = (tag: string) => string;

export function platformName(platform: Partial<OciPlatform> | undefined): string | undefined {
  if (!platform?.os || !platform.architecture) return undefined;
  return [platform.os, platform.architecture, ...(platform.variant ? [platform.variant] : [])].join('/');
}

/** The files of the OCI layout at `dir`, failing with one line when there is none. */
export async function layoutFiles(dir: string): Promise<ImageFiles> {
  const stats = await stat(dir).catch(() => undefined);
  if (stats === undefined) {
    throw new GociError('NOT_FOUND', `OCI layout ${displayPath(dir)} does not exist`, {
      hint: 'oci:DIR[:TAG] names an OCI layout directory, such as the dist/oci that goci build writes',
    });
  }
  if (!stats.isDirectory()) {
    throw new GociError('BAD_ARGUMENT', `OCI layout ${displayPath(dir)} is not a directory`, {
      hint: 'for a tar, write oci-archive:FILE[:TAG] or docker-archive:FILE',
    });
  }
  return directoryFiles(dir);
}

/** Reads index.json of a layout (directory or archive): the descriptors it tags. */
export async function readLayoutIndex(files: ImageFiles): Promise<Descriptor[]> {
  const size = await files.size('index.json');
  if (size === undefined) {
    throw new GociError('NOT_FOUND', `${files.location} is not an OCI layout: it has no index.json`, {
      hint: 'an OCI layout is a directory or tar that holds oci-layout, index.json and blobs/, such as the dist/oci that goci build writes',
    });
  }
  if (size > MAX_JSON_BLOB)
    throw new GociError('IO_FAILED', `index.json of ${files.description} has ${size} bytes, too large for an index`);
  let document: unknown;
  try {
    document = JSON.parse((await files.read('index.json', 0, size)).toString('utf8'));
  } catch (error) {
    throw new GociError('IO_FAILED', `index.json of ${files.description} is not JSON: ${(error as Error).message}`, {
      cause: error,
    });
  }
  return descriptorsIn(files, objectOf(document, 'index.json', files).manifests, 'index.json');
}

/**
 * The images `tag` names in an OCI layout; without a tag, the layout's only image. An unknown
 * tag, or no tag where there are several, is a one-line error that lists the tags.
 */
export async function readLayout(
  files: ImageFiles,
  tag: string | undefined,
  withTag: ReferenceWithTag,
): Promise<StoredImageSet> {
  const all = await readLayoutIndex(files);
  // `sha256-<hex>` tags list an image's referrers (its SBOMs), not images of their own.
  const entries = all.filter((entry) => !isReferrersTag(entry.annotations?.[REF_NAME]));
  const tags = entries
    .map((entry) => entry.annotations?.[REF_NAME])
    .filter((name): name is string => typeof name === 'string');
  const listed = tags.length > 0 ? tags.join(', ') : 'none';
  let chosen: Descriptor | undefined;
  if (tag !== undefined) {
    chosen = all.find((entry) => entry.annotations?.[REF_NAME] === tag);
    if (chosen === undefined) {
      throw new GociError(
        'NOT_FOUND',
        `tag ${JSON.stringify(tag)} is not in ${files.description} (its tags: ${listed})`,
        {
          hint:
            tags.length > 0
              ? `name one of its tags, such as ${withTag(tags[0]!)}`
              : 'this layout tags nothing: leave the tag out',
        },
      );
    }
  } else if (entries.length === 1) {
    chosen = entries[0]!;
  } else if (entries.length === 0) {
    throw new GociError('NOT_FOUND', `${files.description} holds no images`, {
      hint: 'write an image into it first, for example with goci build',
    });
  } else {
    throw new GociError(
      'BAD_ARGUMENT',
      `${files.description} holds ${entries.length} images (tags: ${listed}); name one`,
      {
        hint:
          tags.length > 0
            ? `add the tag, such as ${withTag(tags[0]!)}`
            : 'give each image a tag (org.opencontainers.image.ref.name)',
      },
    );
  }
  const name = chosen.annotations?.[REF_NAME];
  const found = await imagesUnder(files, chosen);
  return { ...(name === undefined ? {} : { tag: name }), ...found };
}

/** The platform images a descriptor reaches (itself, or the entries of its index), and the index if it is one. */
export async function imagesUnder(files: ImageFiles, descriptor: Descriptor): Promise<Omit<StoredImageSet, 'tag'>> {
  const top = await readDocument(files, descriptor, describeEntry(descriptor, 'the image'));
  if (top.kind === 'manifest') return { images: [await manifestImage(files, descriptor, top)] };
  const images: StoredImage[] = [];
  const visit = async (entries: Descriptor[], depth: number): Promise<void> => {
    for (const entry of entries) {
      if (entry.annotations?.[REFERENCE_TYPE] !== undefined || entry.platform?.os === 'unknown') continue;
      const document = await readDocument(files, entry, describeEntry(entry, `an entry of ${entry.digest}`));
      if (document.kind === 'manifest') images.push(await manifestImage(files, entry, document));
      else if (depth >= MAX_INDEX_DEPTH)
        throw new GociError(
          'IO_FAILED',
          `${files.description} nests indexes more than ${MAX_INDEX_DEPTH} deep at ${entry.digest}`,
        );
      else await visit(document.manifests, depth + 1);
    }
  };
  await visit(top.manifests, 1);
  if (images.length === 0)
    throw new GociError('NOT_FOUND', `the index ${descriptor.digest} in ${files.description} lists no platform images`);
  return { index: { digest: descriptor.digest, size: descriptor.size }, images };
}

type ImageDocument =
  | { kind: 'index'; manifests: Descriptor[] }
  | { kind: 'manifest'; digest: string; size: number; document: Record<string, unknown>; role: string };

function describeEntry(descriptor: Descriptor, otherwise: string): string {
  return platformName(descriptor.platform) ?? otherwise;
}

/** Reads a manifest or an index, telling them apart by media type, else by their fields. */
async function readDocument(files: ImageFiles, descriptor: Descriptor, image: string): Promise<ImageDocument> {
  const isIndex = INDEX_TYPES.has(descriptor.mediaType);
  const role = isIndex ? `index of ${image}` : `manifest of ${image}`;
  const { document, digest, size } = await readJsonBlob(files, blobFile(descriptor.digest, role), descriptor, role);
  const record = objectOf(document, `${role} ${descriptor.digest}`, files);
  if (Array.isArray(record.manifests) && !('config' in record))
    return { kind: 'index', manifests: descriptorsIn(files, record.manifests, `index ${digest}`) };
  if ('config' in record) return { kind: 'manifest', digest, size, document: record, role };
  throw new GociError(
    'IO_FAILED',
    `${role} ${digest} in ${files.description} is neither an image manifest nor an index`,
  );
}

async function manifestImage(
  files: ImageFiles,
  descriptor: Descriptor,
  manifest: ImageDocument & { kind: 'manifest' },
): Promise<StoredImage> {
  const [configDescriptor] = descriptorsIn(files, [manifest.document.config], `${manifest.role} ${manifest.digest}`);
  const layerDescriptors = descriptorsIn(files, manifest.document.layers ?? [], `${manifest.role} ${manifest.digest}`);
  let name = platformName(descriptor.platform) ?? 'the image';
  const configRole = `config of ${name}`;
  const config = await readJsonBlob(
    files,
    blobFile(configDescriptor!.digest, configRole),
    configDescriptor!,
    configRole,
  );
  const configDocument = objectOf(config.document, `${configRole} ${config.digest}`, files);
  name = platformName(configDocument as Partial<OciPlatform>) ?? name;
  const diffIds = diffIdsOf(configDocument);
  return {
    manifest: { digest: manifest.digest, size: manifest.size },
    config: { digest: config.digest, size: config.size, document: configDocument },
    layers: layerDescriptors.map((layer, index) => {
      const role = `layer ${index + 1} of ${name}`;
      return {
        path: blobFile(layer.digest, role),
        size: layer.size,
        digest: layer.digest,
        ...(diffIds[index] ? { diffId: diffIds[index] } : {}),
        role,
      };
    }),
    name,
  };
}

/** The config's rootfs.diff_ids, bottom layer first; empty when it has none. */
export function diffIdsOf(config: Record<string, unknown>): string[] {
  const rootfs = config.rootfs as { diff_ids?: unknown } | undefined;
  return Array.isArray(rootfs?.diff_ids) ? rootfs.diff_ids.filter((id): id is string => typeof id === 'string') : [];
}

/** The descriptors of a `manifests` or `layers` list, each with a digest and a size; `where` names the list in messages. */
export function descriptorsIn(files: ImageFiles, value: unknown, where: string): Descriptor[] {
  if (!Array.isArray(value))
    throw new GociError('IO_FAILED', `${where} in ${files.description} has no list of descriptors`);
  return value.map((item: unknown) => {
    const record = objectOf(item, `a descriptor in ${where}`, files);
    if (
      typeof record.digest !== 'string' ||
      typeof record.size !== 'number' ||
      !Number.isSafeInteger(record.size) ||
      record.size < 0
    ) {
      throw new GociError('IO_FAILED', `a descriptor in ${where} in ${files.description} has no valid digest and size`);
    }
    return record as unknown as Descriptor;
  });
}
