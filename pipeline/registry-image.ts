import type { Descriptor } from '../oci/descriptor.js';
import { MEDIA_TYPES } from '../oci/media-types.js';
import type { ImageStore } from './image-store.js';

/** Image manifests and indexes, in both spellings: what goci asks a registry for. */
export const MANIFEST_TYPES = [MEDIA_TYPES.oci.manifest, MEDIA_TYPES.docker.manifest];
export const INDEX_TYPES = [MEDIA_TYPES.oci.index, MEDIA_TYPES.docker.index];

/** One manifest of an image in a registry: an index (no platform) or a platform image. */
export interface ImageManifestRef {
  digest: string;
  mediaType: string;
  size: number;
  platform: string | undefined;
}

/**
 * What a reference names in its registry now: its manifest first, then, when that is an index,
 * each platform image it lists (not attestation manifests, whose platform is unknown/unknown).
 */
export async function imageManifests(store: ImageStore, reference: string): Promise<ImageManifestRef[]> {
  const top = await store.manifest(reference, [...INDEX_TYPES, ...MANIFEST_TYPES]);
  const topRef = { digest: top.digest, mediaType: top.mediaType, size: top.bytes.length, platform: undefined };
  if (!INDEX_TYPES.includes(top.mediaType)) return [topRef];
  const index = JSON.parse(top.bytes.toString('utf8')) as { manifests?: Descriptor[] };
  const platforms = (index.manifests ?? []).flatMap((entry): ImageManifestRef[] =>
    MANIFEST_TYPES.includes(entry.mediaType) && entry.platform && entry.platform.os !== 'unknown'
      ? [
          {
            digest: entry.digest,
            mediaType: entry.mediaType,
            size: entry.size,
            platform: [entry.platform.os, entry.platform.architecture, entry.platform.variant]
              .filter(Boolean)
              .join('/'),
          },
        ]
      : [],
  );
  return [topRef, ...platforms];
}
