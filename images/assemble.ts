import { found } from '../common/found.js';
import type { Platform } from '../oci/platform.js';
import type { ImagePlan } from './image-plan.js';
import type { JsonBlob } from '../oci/descriptor.js';
import type { RuntimeConfig } from '../oci/image-config.js';
import { writeLayer, type Layer, type LayerEntry } from './layer.js';
import { cachedLayerListing, listLayerBlob } from './layer-listing.js';
import { NOTHING_BELOW, stackEntries, stackListing, withParents, type PathsBelow } from './paths-below.js';
import { cachedLayer, layerInCache, warmLayerCache, type Placement } from './layer-cache.js';
import type { ImageManifest } from '../oci/manifest.js';
import type { ImageFormat } from '../oci/media-types.js';
import { layoutBlobDir } from '../oci/layout.js';
import type { RemoteBase } from './base/remote.js';
import {
  appendLayers,
  platformImage,
  writeIndex,
  type AppendedLayer,
  type PlatformImageRequest,
} from './append-layers.js';

/** Promise.all that, on a failure, waits for every other promise to settle before throwing the first error. */
type Settled<T extends readonly unknown[]> = { -readonly [K in keyof T]: Awaited<T[K]> };

async function allSettledOrThrow<T extends readonly unknown[]>(promises: T): Promise<Settled<T>> {
  const settled = await Promise.allSettled(promises);
  const failed = settled.find((result): result is PromiseRejectedResult => result.status === 'rejected');
  if (failed) throw failed.reason;
  return settled.map((result) => (result as PromiseFulfilledResult<unknown>).value) as Settled<T>;
}

/** A built-in base's layer: its cache key and how it is written; undefined for scratch and a registry base. */
function builtInBaseLayer(
  base: ImageBase,
  epoch: number,
): { key: string; build: (dir: string) => Promise<Layer> } | undefined {
  if (base.kind === 'remote' || base.cacheKey === undefined) return undefined;
  return {
    key: `${base.cacheKey}\nmtime=${epoch}`,
    build: async (dir) => writeLayer(await base.entries(), dir, { mtime: epoch }),
  };
}

/**
 * Builds the base's layer into goci's cache ahead of time (it does not depend on the
 * binaries), so `goci build` can do it while Go compiles; assembly then finds it cached.
 */
export async function prepareBaseLayer(base: ImageBase, epoch: number): Promise<void> {
  const layer = builtInBaseLayer(base, epoch);
  if (layer) await warmLayerCache(layer.key, layer.build);
}

/** A base as layers to write plus the runtime defaults it brings. */
export interface BaseLayers {
  /** Shown in history, e.g. `goci static (nonroot)`; undefined for scratch. */
  name: string | undefined;
  /** The base's files; loaded only when its layer is not cached already. */
  entries: () => Promise<LayerEntry[]>;
  /** Names every input of the base's content, so its layer can be cached; undefined for scratch. */
  cacheKey: string | undefined;
  env: string[];
  user: string;
  workingDir: string;
}

/** A base from a registry: per platform its layers (already built), history and runtime defaults. */
export interface RemoteBaseLayers {
  kind: 'remote';
  name: string;
  remote: RemoteBase;
  env: string[];
  user: string;
  workingDir: string;
}

export type ImageBase = (BaseLayers & { kind?: 'built-in' }) | RemoteBaseLayers;

/** What one platform's image holds besides the shared base and files. */
export interface PlatformImageInput {
  platform: Platform;
  binaryEntries: LayerEntry[];
  /** Names the binaries' contents (their sha256) and places, so an unchanged binary layer is reused. */
  binaryCacheKey: string;
  /** A registry base's directories and symlinks for this platform (remoteBasePaths); a built-in base's are read here. */
  baseBelow?: PathsBelow;
  /** Labels derived from this platform's binaries, merged under the user's. */
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

export interface AssemblyRequest {
  layoutDir: string;
  /** How cached layers go into the layout: copies (the default) unless it is a push's scratch space. */
  placement?: Placement;
  format: ImageFormat;
  base: ImageBase;
  fileEntries: LayerEntry[];
  runtime: Omit<RuntimeConfig, 'labels'>;
  epoch: number;
  indexAnnotations: Record<string, string>;
  platforms: PlatformImageInput[];
}

/**
 * The CLI's assembly of a plan: its entries as tar layers into the layout at `layoutDir`;
 * `remoteBelow` holds a registry base's paths per platform of the plan (remoteBasePaths).
 */
export function assemblyRequest(
  plan: ImagePlan<string>,
  base: ImageBase,
  layoutDir: string,
  format: ImageFormat,
  remoteBelow?: readonly PathsBelow[],
): AssemblyRequest {
  return {
    layoutDir,
    format,
    base,
    fileEntries: plan.fileEntries,
    runtime: plan.runtime,
    epoch: plan.epoch,
    indexAnnotations: plan.indexAnnotations,
    platforms: plan.platforms.map((image, position) => ({
      platform: image.platform,
      ...(remoteBelow?.[position] ? { baseBelow: remoteBelow[position] } : {}),
      binaryEntries: image.binaryEntries,
      binaryCacheKey: `binaries ${JSON.stringify(
        image.binaryEntries.map((entry, position) => [
          entry.path,
          entry.mode,
          entry.uid,
          entry.gid,
          found(image.binaries[position], `the binary of ${entry.path}`).sha256,
        ]),
      )}`,
      labels: image.labels,
      annotations: image.annotations,
    })),
  };
}

export interface AssembledImages {
  images: ImageManifest[];
  index: JsonBlob;
}

/** A layer to write: its entries (unlisted parents included) and what names them for reuse. */
interface PlannedLayer {
  entries: LayerEntry[];
  key: string;
}

/** One platform's files and binaries layers, their parents kept as the base beneath has them. */
function platformLayers(
  listedFiles: LayerEntry[],
  input: PlatformImageInput,
  below: PathsBelow,
): { files: PlannedLayer | undefined; binaries: PlannedLayer } {
  const fileEntries = listedFiles.length === 0 ? [] : withParents(listedFiles, below);
  const binaryEntries = withParents(input.binaryEntries, stackEntries(below, fileEntries));
  const parents = (entries: LayerEntry[], listed: number) => JSON.stringify(entries.slice(listed));
  return {
    files:
      fileEntries.length === 0 ? undefined : { entries: fileEntries, key: parents(fileEntries, listedFiles.length) },
    binaries: {
      entries: binaryEntries,
      key: `${input.binaryCacheKey}\nparents=${parents(binaryEntries, input.binaryEntries.length)}`,
    },
  };
}

/** The built-in base's directories and symlinks, read from its layer once and cached by digest. */
async function builtInBasePaths(layer: Layer, where: string): Promise<PathsBelow> {
  const listing = await cachedLayerListing(layer.digest, () => listLayerBlob(layer.blobPath, layer, where));
  return stackListing(NOTHING_BELOW, listing);
}

/** What lies beneath goci's layers: a built-in base's layer (put into `blobDir`) and its paths. */
export interface Beneath {
  layer: Layer | undefined;
  below: PathsBelow;
}

/**
 * A built-in base's layer, from goci's cache (prepareBaseLayer usually built it while Go
 * compiled), and what it holds; nothing for scratch and for a registry base (whose paths come
 * per platform, see PlatformImageInput.baseBelow).
 */
async function baseBeneath(
  base: ImageBase,
  epoch: number,
  blobDir: string,
  placement: Placement | undefined,
): Promise<Beneath> {
  const baseLayer = builtInBaseLayer(base, epoch);
  if (!baseLayer) return { layer: undefined, below: NOTHING_BELOW };
  const layer = await cachedLayer(baseLayer.key, blobDir, baseLayer.build, placement);
  return { layer, below: await builtInBasePaths(layer, `the base ${base.name}`) };
}

/**
 * A built-in base from goci's cache, before any output exists (for what a push sends early):
 * its layer (none for scratch) and what it holds. undefined for a registry base, and without a
 * usable cache.
 */
export async function builtInBaseInCache(base: ImageBase, epoch: number): Promise<Beneath | undefined> {
  if (base.kind === 'remote') return undefined;
  const baseLayer = builtInBaseLayer(base, epoch);
  if (!baseLayer) return { layer: undefined, below: NOTHING_BELOW };
  const cached = await layerInCache(baseLayer.key, baseLayer.build);
  return cached && { layer: cached.layer, below: await builtInBasePaths(cached.layer, `the base ${base.name}`) };
}

function binariesLayerKey(binaries: PlannedLayer, epoch: number): string {
  return `${binaries.key}\nmtime=${epoch}`;
}

/**
 * What a push can send of one platform before the index exists, written into goci's cache as
 * soon as the platform's binaries do: its new binaries layer, and when everything beneath that
 * is goci's own (a built-in base or scratch, no image.files), the platform's whole image, the
 * very config and manifest assembleImages will write.
 */
export interface EarlyPlatform {
  binaries: Layer;
  image: { manifest: ImageManifest; layerFiles: ReadonlyMap<string, string> } | undefined;
}

/**
 * The first platform of `request` as assembleImages will make it (the same entries under the
 * same keys), its binaries layer built into goci's cache only. undefined when the cache held
 * that layer already (an unchanged binary, most likely pushed by an earlier run: the push checks
 * it with the rest) or cannot be used: assembly then handles it as always. `beneath` is the
 * built-in base in the cache (builtInBaseInCache); undefined for a registry base.
 */
export async function earlyPlatform(
  request: AssemblyRequest,
  beneath: Beneath | undefined,
): Promise<EarlyPlatform | undefined> {
  const input = found(request.platforms[0], 'the platform of an early image');
  const below = input.baseBelow ?? beneath?.below;
  if (!below) return undefined;
  const { files, binaries } = platformLayers(request.fileEntries, input, below);
  const cached = await layerInCache(binariesLayerKey(binaries, request.epoch), (dir) =>
    writeLayer(binaries.entries, dir, { mtime: request.epoch }),
  );
  if (!cached?.built) return undefined;
  const layer = cached.layer;
  if (!beneath || files) return { binaries: layer, image: undefined };
  const shared = sharedLayers(request.base, beneath.layer, undefined);
  const manifest = platformImage(platformImageRequest(request, input, [...shared, binariesLayer(input, layer)]));
  const layerFiles = new Map([...shared.map((item) => item.layer), layer].map((item) => [item.digest, item.blobPath]));
  return { binaries: layer, image: { manifest, layerFiles } };
}

/** The base's and image.files' layers every platform shares, with the history lines that explain them. */
function sharedLayers(base: ImageBase, baseLayer: Layer | undefined, filesLayer: Layer | undefined): AppendedLayer[] {
  const shared: AppendedLayer[] = [];
  if (baseLayer) shared.push({ layer: baseLayer, createdBy: `goci base: ${base.name}` });
  if (filesLayer) shared.push({ layer: filesLayer, createdBy: 'goci files: image.files' });
  return shared;
}

function binariesLayer(input: PlatformImageInput, layer: Layer): AppendedLayer {
  return { layer, createdBy: `goci binaries: ${input.binaryEntries.map((entry) => entry.path).join(' ')}` };
}

/** One platform's image over `layers` (base, files, binaries), as assembly and an early push both describe it. */
function platformImageRequest(
  request: AssemblyRequest,
  input: PlatformImageInput,
  layers: AppendedLayer[],
): PlatformImageRequest {
  return {
    format: request.format,
    platform: input.platform,
    base: request.base.kind === 'remote' ? request.base : undefined,
    layers,
    runtime: { ...request.runtime, labels: input.labels },
    epoch: request.epoch,
    annotations: input.annotations,
  };
}

/**
 * Writes every blob of a multi-platform image into the layout's blob store: the base and
 * files layers once (they are the same for every platform), then per platform the binary
 * layer last, so a code change touches only that layer and the documents above it.
 */
export async function assembleImages(request: AssemblyRequest): Promise<AssembledImages> {
  const blobDir = layoutBlobDir(request.layoutDir);
  const options = { mtime: request.epoch };
  const { base } = request;
  const beneath = await baseBeneath(base, request.epoch, blobDir, request.placement);
  const baseLayer = beneath.layer;
  const layerPlans = request.platforms.map((input) =>
    platformLayers(request.fileEntries, input, input.baseBelow ?? beneath.below),
  );
  // Every layer is independent: compress them side by side (zlib runs on the thread pool). On a
  // failure every write has ended before it is thrown, so the caller's cleanup races no writer.
  // Platforms whose bases hold the same parents share one files layer.
  const filesLayers = new Map<string, Promise<Layer>>();
  for (const plan of layerPlans) {
    if (plan.files && !filesLayers.has(plan.files.key))
      filesLayers.set(plan.files.key, writeLayer(plan.files.entries, blobDir, options));
  }
  const [written, binaryLayers] = await allSettledOrThrow([
    allSettledOrThrow([...filesLayers.values()]),
    allSettledOrThrow(
      layerPlans.map(({ binaries }) =>
        cachedLayer(
          binariesLayerKey(binaries, request.epoch),
          blobDir,
          (dir) => writeLayer(binaries.entries, dir, options),
          request.placement,
        ),
      ),
    ),
  ] as const);
  const filesByKey = new Map([...filesLayers.keys()].map((key, position) => [key, written[position]]));
  const images = await Promise.all(
    request.platforms.map((input, position) => {
      const layer = found(binaryLayers[position], `the binaries layer of ${input.platform.os}/${input.platform.arch}`);
      const filesKey = layerPlans[position]?.files?.key;
      const filesLayer = filesKey === undefined ? undefined : filesByKey.get(filesKey);
      const layers = [...sharedLayers(base, baseLayer, filesLayer), binariesLayer(input, layer)];
      return appendLayers({ layoutDir: request.layoutDir, ...platformImageRequest(request, input, layers) });
    }),
  );
  const remote = base.kind === 'remote' ? base : undefined;
  const index = await writeIndex(request.layoutDir, request.format, images, remote, request.indexAnnotations);
  return { images, index };
}
