import type { Descriptor, JsonBlob, OciPlatform } from './descriptor.js';
import type { ImageManifest } from './manifest.js';
import type { Layer } from './layer.js';

/** One platform's image: its manifest and config documents, and its layers. */
export interface Image {
  platform: OciPlatform;
  /** How an index names this image (media type, digest, size, platform). */
  descriptor: Descriptor;
  manifest: JsonBlob;
  config: JsonBlob;
  layers: Layer[];
}

/** The manifest view the registry push and tarball writers take: layers as descriptors. */
export function imageManifestOf(image: Image): ImageManifest {
  const { platform, descriptor, manifest, config } = image;
  return { platform, descriptor, manifest, config, layers: image.layers.map((layer) => layer.descriptor) };
}
