import type { Platform } from '../compiler/platform.js';
import { jsonBlob, type JsonBlob } from './descriptor.js';
import { imageConfig, type ConfigLayer, type RuntimeConfig } from './image-config.js';
import { writeLayer, type Layer, type LayerEntry } from './layer.js';
import { imageIndex, imageManifest, type ImageManifest } from './manifest.js';
import type { ImageFormat } from './media-types.js';
import { layoutBlobDir, writeJsonBlob } from './oci-layout.js';
import { ociPlatform } from './platform.js';

/** A base as layers to write plus the runtime defaults it brings. */
export interface BaseLayers {
  /** Shown in history, e.g. `goci static (nonroot)`; undefined for scratch. */
  name: string | undefined;
  entries: LayerEntry[];
  env: string[];
  user: string;
  workingDir: string;
}

/** What one platform's image holds besides the shared base and files. */
export interface PlatformImageInput {
  platform: Platform;
  binaryEntries: LayerEntry[];
  /** Labels derived from this platform's binaries, merged under the user's. */
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

export interface AssemblyRequest {
  layoutDir: string;
  format: ImageFormat;
  base: BaseLayers;
  fileEntries: LayerEntry[];
  runtime: Omit<RuntimeConfig, 'labels'>;
  epoch: number;
  indexAnnotations: Record<string, string>;
  platforms: PlatformImageInput[];
}

export interface AssembledImages {
  images: ImageManifest[];
  index: JsonBlob;
}

/**
 * Writes every blob of a multi-platform image into the layout's blob store: the base and
 * files layers once (they are the same for every platform), then per platform the binary
 * layer last, so a code change touches only that layer and the documents above it.
 */
export async function assembleImages(request: AssemblyRequest): Promise<AssembledImages> {
  const blobDir = layoutBlobDir(request.layoutDir);
  const shared: { layer: Layer; history: ConfigLayer }[] = [];
  if (request.base.entries.length > 0) {
    shared.push({ layer: await writeLayer(request.base.entries, blobDir, { mtime: request.epoch }), history: { diffId: '', createdBy: `goci base: ${request.base.name}` } });
  }
  if (request.fileEntries.length > 0) {
    shared.push({ layer: await writeLayer(request.fileEntries, blobDir, { mtime: request.epoch }), history: { diffId: '', createdBy: 'goci files: image.files' } });
  }
  const images: ImageManifest[] = [];
  for (const input of request.platforms) {
    const binary = await writeLayer(input.binaryEntries, blobDir, { mtime: request.epoch });
    const layers = [...shared, { layer: binary, history: { diffId: '', createdBy: `goci binaries: ${input.binaryEntries.map((entry) => entry.path).join(' ')}` } }];
    const platform = ociPlatform(input.platform);
    const config = jsonBlob(
      imageConfig({
        platform,
        runtime: { ...request.runtime, labels: input.labels },
        layers: layers.map(({ layer, history }) => ({ ...history, diffId: layer.diffId })),
        created: request.epoch,
      }),
    );
    await writeJsonBlob(request.layoutDir, config);
    const image = imageManifest(request.format, platform, config, layers.map(({ layer }) => layer), input.annotations);
    await writeJsonBlob(request.layoutDir, image.manifest);
    images.push(image);
  }
  const index = imageIndex(request.format, images, request.indexAnnotations);
  await writeJsonBlob(request.layoutDir, index);
  return { images, index };
}
