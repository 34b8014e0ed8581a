import { describeBlob, jsonBlob, type Descriptor, type JsonBlob, type OciPlatform } from './descriptor.js';
import { MEDIA_TYPES, type ImageFormat } from './media-types.js';

/** A platform image: its config and layers as blobs, and the manifest that ties them. */
export interface ImageManifest {
  platform: OciPlatform;
  config: JsonBlob;
  layers: Descriptor[];
  manifest: JsonBlob;
  /** How an index points at this manifest. */
  descriptor: Descriptor;
}

const GZIP_LAYER_TYPES = new Set([MEDIA_TYPES.oci.layerGzip, MEDIA_TYPES.docker.layerGzip]);

/** A gzip layer is the same bytes in either dialect, so it takes the output's name; others keep theirs. */
function layerMediaType(format: ImageFormat, mediaType: string): string {
  return GZIP_LAYER_TYPES.has(mediaType) ? MEDIA_TYPES[format].layerGzip : mediaType;
}

export function imageManifest(
  format: ImageFormat,
  platform: OciPlatform,
  config: JsonBlob,
  layers: Descriptor[],
  annotations: Record<string, string>,
): ImageManifest {
  const types = MEDIA_TYPES[format];
  const document = {
    schemaVersion: 2,
    mediaType: types.manifest,
    config: describeBlob(types.config, config),
    layers: layers.map((layer) => ({
      mediaType: layerMediaType(format, layer.mediaType),
      digest: layer.digest,
      size: layer.size,
    })),
    // Docker schema 2 has no annotations field.
    ...(format === 'oci' && Object.keys(annotations).length > 0 ? { annotations } : {}),
  };
  const manifest = jsonBlob(document);
  return { platform, config, layers, manifest, descriptor: describeBlob(types.manifest, manifest, { platform }) };
}

/** The multi-platform index over platform manifests, in the order given. */
export function imageIndex(
  format: ImageFormat,
  manifests: ImageManifest[],
  annotations: Record<string, string>,
): JsonBlob {
  const types = MEDIA_TYPES[format];
  return jsonBlob({
    schemaVersion: 2,
    mediaType: types.index,
    manifests: manifests.map((image) => image.descriptor),
    ...(format === 'oci' && Object.keys(annotations).length > 0 ? { annotations } : {}),
  });
}
