import { GociError } from '../common/errors.js';
import { jsonBlob, type JsonBlob } from '../oci/descriptor.js';
import { imageConfig, type RuntimeConfig } from '../oci/image-config.js';
import { writeJsonBlob } from '../oci/layout.js';
import { imageIndex, imageManifest, type ImageManifest } from '../oci/manifest.js';
import type { ImageFormat } from '../oci/media-types.js';
import { ociPlatform, type Platform } from '../oci/platform.js';
import type { RemoteBaseLayers } from './assemble.js';
import { baseAnnotations, type RemoteBasePlatform } from './base/remote.js';
import type { Layer } from './layer.js';

/** A layer goci wrote, with the history line (`created_by`) that explains it. */
export interface AppendedLayer {
  layer: Layer;
  createdBy: string;
}

export interface AppendRequest {
  /** The layout whose blob store the layers are in; the config and manifest are written there. */
  layoutDir: string;
  format: ImageFormat;
  platform: Platform;
  /** A registry base to start from (its layers, diff_ids and history first); undefined: nothing below. */
  base: RemoteBaseLayers | undefined;
  layers: AppendedLayer[];
  runtime: RuntimeConfig;
  /** Unix seconds of `created` (and of every history line goci adds). */
  epoch: number;
  annotations: Record<string, string>;
}

/** The base's image for `platform`, which resolving the base made sure exists. */
export function basePlatform(base: RemoteBaseLayers, platform: Platform): RemoteBasePlatform {
  const match = base.remote.platforms.find(
    (candidate) =>
      candidate.platform === platform ||
      (candidate.platform.os === platform.os &&
        candidate.platform.arch === platform.arch &&
        candidate.platform.variant === platform.variant),
  );
  if (!match) {
    const { os, architecture } = ociPlatform(platform);
    throw new GociError('BAD_PLATFORM', `the base ${base.name} was resolved without ${os}/${architecture}`);
  }
  return match;
}

/** What one platform image is made of; appendLayers also names the layout it is written into. */
export type PlatformImageRequest = Omit<AppendRequest, 'layoutDir'>;

/**
 * The one way goci puts an image together: a base's layers and history (when it has one), then
 * goci's layers, as one config and one manifest. A registry base's manifest carries
 * `org.opencontainers.image.base.*`; its blobs are not fetched here. Nothing is written: a push
 * sends these documents before any layout exists.
 */
export function platformImage(request: PlatformImageRequest): ImageManifest {
  const { base, layers } = request;
  const platform = ociPlatform(request.platform);
  const below = base ? basePlatform(base, request.platform) : undefined;
  const config = jsonBlob(
    imageConfig({
      platform,
      runtime: request.runtime,
      ...(below ? { inherited: { diffIds: below.layers.map((layer) => layer.diffId), history: below.history } } : {}),
      layers: layers.map(({ layer, createdBy }) => ({ diffId: layer.diffId, createdBy })),
      created: request.epoch,
    }),
  );
  const annotations =
    base && below
      ? { ...request.annotations, ...baseAnnotations(base.name, below.manifestDigest) }
      : request.annotations;
  return imageManifest(
    request.format,
    platform,
    config,
    [...(below?.layers ?? []), ...layers.map(({ layer }) => layer)],
    annotations,
  );
}

/** platformImage, its config and manifest written into the layout whose blob store holds the layers. */
export async function appendLayers(request: AppendRequest): Promise<ImageManifest> {
  const image = platformImage(request);
  await Promise.all([writeJsonBlob(request.layoutDir, image.config), writeJsonBlob(request.layoutDir, image.manifest)]);
  return image;
}

/** The index over appended images, written into the layout; a registry base is named in its annotations. */
export async function writeIndex(
  layoutDir: string,
  format: ImageFormat,
  images: ImageManifest[],
  base: RemoteBaseLayers | undefined,
  annotations: Record<string, string>,
): Promise<JsonBlob> {
  const index = imageIndex(
    format,
    images,
    base ? { ...annotations, ...baseAnnotations(base.name, base.remote.digest) } : annotations,
  );
  await writeJsonBlob(layoutDir, index);
  return index;
}
