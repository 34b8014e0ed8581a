import type { JsonBlob } from './descriptor.js';
import type { ImageManifest } from './manifest.js';
import type { ContentStore } from './content-store.js';
import type { Image } from './image.js';
import type { Index, Referrer } from './index.js';
import type { LayerSource } from './layer.js';

export interface IndexParts {
  index: JsonBlob;
  mediaType: string;
  images: ImageManifest[];
  referrers: Referrer[];
  store: ContentStore;
  /** Layers some other repository already holds, by digest (a registry base's). */
  sources?: ReadonlyMap<string, LayerSource>;
}

/** The layers' diff_ids, in order, from an image config. */
function diffIds(config: JsonBlob): string[] {
  const document = JSON.parse(config.bytes.toString('utf8')) as { rootfs?: { diff_ids?: unknown } };
  const ids = document.rootfs?.diff_ids;
  return Array.isArray(ids) ? ids.map(String) : [];
}

/** Documents and a content store, as the Index value the sinks take. */
export function indexValue(parts: IndexParts): Index {
  const { store } = parts;
  const images = parts.images.map((image): Image => {
    const ids = diffIds(image.config);
    return {
      platform: image.platform,
      descriptor: image.descriptor,
      manifest: image.manifest,
      config: image.config,
      layers: image.layers.map((descriptor, position) => {
        const mountFrom = parts.sources?.get(descriptor.digest);
        return {
          descriptor,
          diffId: ids[position] ?? '',
          ...(mountFrom ? { mountFrom } : {}),
          open: () => store.open(descriptor),
        };
      }),
    };
  });
  return {
    descriptor: { mediaType: parts.mediaType, digest: parts.index.digest, size: parts.index.size },
    bytes: parts.index.bytes,
    images,
    referrers: parts.referrers,
    store,
  };
}
