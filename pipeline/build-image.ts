import { formatPlatform } from '../compiler/platform.js';
import type { Binary } from '../compiler/checked-binary.js';
import {
  assembleImages,
  assemblyRequest,
  baseBeneath,
  binariesLayer,
  type Beneath,
  type RemoteBaseLayers,
} from '../images/assemble.js';
import { found } from '../common/found.js';
import type { Target } from '../compiler/plan.js';
import { remoteBasePaths } from '../images/base/paths.js';
import type { PathsBelow } from '../images/paths-below.js';
import { layoutBlobDir } from '../oci/layout.js';
import type { Platform } from '../oci/platform.js';
import type { Sink } from '../sinks/sink.js';
import { downloadBaseLayers } from '../images/base/download.js';
import { entrypointBuildId, imageBuildIds, imageRepository, planImage } from '../images/image-plan.js';
import { MEDIA_TYPES } from '../oci/media-types.js';
import { sbomArtifacts } from '../images/sbom/artifacts.js';
import { indexValue } from '../oci/index-value.js';
import { remoteLayerSources } from '../images/base/layer-sources.js';
import type { RegistryClients } from '../registry/clients.js';
import { formatReference } from '../registry/reference.js';
import type { StagedOutputs } from '../sinks/staged-outputs.js';
import type { BuiltImage } from './built-image.js';
import { tagsFor } from './image-settings.js';
import { imageSinks } from './image-sinks.js';
import { chooseLoadPlatform } from './load-platform.js';
import type { PreparedImage, RunSettings } from './prepare-image.js';
import type { Progress } from './progress.js';

export interface ImageStart {
  prepared: PreparedImage;
  /** The plan's targets of this image's spec: which binaries it waits for. */
  targets: Target[];
  settings: RunSettings;
  outputs: StagedOutputs;
  clients: RegistryClients;
  progress: Progress;
}

/** One image of a run, started before anything compiles. */
export interface ImageRun {
  /**
   * A binary of the run is built and checked: once all of a platform's are there, that
   * platform's binaries layer is written and offered to the sinks while other targets compile.
   */
  onBinary(binary: Binary<string>): void;
  /** planImage → assemble (finding the layers written early) → the Index with its SBOMs → the sinks. */
  finish(built: Binary<string>[]): Promise<BuiltImage>;
  /** Resolves once nothing started by onBinary is still writing (before the staged outputs go). */
  settled(): Promise<void>;
}

/** The linux platforms of an image's targets, each once, in target order. */
function platformsOf(targets: Target[]): Platform[] {
  const seen = new Map<string, Platform>();
  for (const { platform } of targets) if (platform.os === 'linux') seen.set(formatPlatform(platform), platform);
  return [...seen.values()];
}

/**
 * Starts one image: its sinks are made now (a bad --load-platform is found before compiling),
 * its binaries layers are written as their platforms' binaries arrive (onBinary), and
 * finish() puts the image together once every binary is built.
 */
export function startImage(request: ImageStart): ImageRun {
  const { prepared, settings, outputs, progress } = request;
  const { spec, image, base, push } = prepared;
  const blobDir = layoutBlobDir(outputs.store.dir);
  const builds = imageBuildIds(spec, image);
  const targets = request.targets.filter((target) => builds.includes(target.buildId));
  const entrypoint = entrypointBuildId(spec, image);
  const entrypointTarget = found(
    targets.find((target) => target.buildId === entrypoint),
    `a target of the entrypoint build "${entrypoint}"`,
  );
  const repository = imageRepository(image, entrypointTarget.binary);
  const loadPlatform = chooseLoadPlatform(platformsOf(targets), settings.loadPlatform);
  const sink = imageSinks({ ...request, repository, loadPlatform });
  let remotePaths: Promise<Map<string, PathsBelow>> | undefined;
  const remoteBelow = (): Promise<Map<string, PathsBelow>> | undefined => {
    if (base.kind !== 'remote') return undefined;
    remotePaths ??= remoteBase(request, base, platformsOf(targets), sink);
    return remotePaths;
  };
  let beneath: Promise<Beneath> | undefined;
  const beneathFor = (epoch: number): Promise<Beneath> => {
    beneath ??= baseBeneath(base, epoch, blobDir);
    return beneath;
  };
  const belowOf = (paths: Map<string, PathsBelow> | undefined, platforms: Platform[]): PathsBelow[] | undefined =>
    paths && platforms.map((platform) => found(paths.get(formatPlatform(platform)), formatPlatform(platform)));
  const baseLayers = base.kind === 'remote' ? remoteLayerSources(base) : new Map();

  const writeEarly = async (binaries: Binary<string>[]): Promise<void> => {
    const plan = planImage({ spec, image, binaries, base, files: prepared.files });
    const platforms = plan.platforms.map((item) => item.platform);
    const assembly = assemblyRequest(
      plan,
      base,
      outputs.store.dir,
      settings.format,
      belowOf(await remoteBelow(), platforms),
    );
    const input = found(assembly.platforms[0], 'the platform of an early layer');
    const layer = await binariesLayer(assembly.fileEntries, input, await beneathFor(plan.epoch), plan.epoch, blobDir);
    // A layer the registry base holds already is mounted from there when the index is written.
    if (!baseLayers.has(layer.digest)) sink.early?.(layer, layer.blobPath);
  };
  const early: Promise<void>[] = [];
  const arrived = new Map<string, Binary<string>[]>();

  return {
    onBinary(binary) {
      if (binary.target.spec !== spec || !builds.includes(binary.target.buildId)) return;
      if (binary.target.platform.os !== 'linux') return;
      const key = formatPlatform(binary.target.platform);
      const binaries = [...(arrived.get(key) ?? []), binary];
      arrived.set(key, binaries);
      // A failure here is found again, and reported, by finish(), which does the same work.
      if (builds.every((id) => binaries.some((item) => item.target.buildId === id)))
        early.push(writeEarly(binaries).catch(() => undefined));
    },
    settled: async () => {
      await Promise.all(early);
    },
    async finish(built) {
      await Promise.all(early);
      const plan = planImage({ spec, image, binaries: built, base, files: prepared.files });
      const stamp = found(built[0], 'a binary of the image').target.stamp;
      const tags = tagsFor(stamp.version, settings, push?.tag);
      const platforms = plan.platforms.map((item) => item.platform);
      const name = `${push ? formatReference({ ...push, tag: undefined }) : plan.repository}:${tags[0]}`;
      progress.report({ kind: 'image-start', image: name, platforms: plan.platforms.length });
      const below = belowOf(await remoteBelow(), platforms);
      const assembled = await assembleImages(assemblyRequest(plan, base, outputs.store.dir, settings.format, below));
      progress.report({ kind: 'image-done', image: name, digest: assembled.index.digest });
      // The SBOM names the image as goci.yaml does, not the push target: the same build describes itself the same
      // way wherever it goes, so `goci push oci:L` later pushes the very referrers `--push` would have.
      const sbomName = `${plan.repository}:${tags[0]}`;
      const sboms =
        settings.sbom === 'none'
          ? []
          : sbomArtifacts(
              settings.sbom,
              sbomName,
              assembled.images,
              plan.platforms.map((item) => item.entrypoint),
              plan.epoch,
            );
      const index = indexValue({
        index: assembled.index,
        mediaType: MEDIA_TYPES[settings.format].index,
        images: assembled.images,
        referrers: sboms.map((artifact, position) => ({ artifact, subject: assembled.images[position]!.descriptor })),
        store: outputs.store,
        sources: baseLayers,
      });
      const { tarball, loaded, ociLayout, pushed } = await sink.write(index, tags);
      return {
        ...(tarball ? { tarball } : {}),
        ...(loaded ? { loaded } : {}),
        repository: plan.repository,
        tags,
        index: { digest: assembled.index.digest, size: assembled.index.size },
        platforms: assembled.images.map((item, position) => ({
          platform: formatPlatform(platforms[position]!),
          digest: item.manifest.digest,
          size: item.manifest.size + item.config.size + item.layers.reduce((sum, layer) => sum + layer.size, 0),
        })),
        ...(ociLayout ? { ociLayout } : {}),
        ...(pushed ? { pushed } : {}),
      };
    },
  };
}

/**
 * A registry base's layers, downloaded into the run's layout unless every sink mounts them from
 * their registry, and its paths per platform (read from those blobs, or from goci's cache).
 */
async function remoteBase(
  request: ImageStart,
  base: RemoteBaseLayers,
  platforms: Platform[],
  sink: Sink,
): Promise<Map<string, PathsBelow>> {
  const client = request.clients.for(base.remote.ref.registry);
  const layoutDir = request.outputs.store.dir;
  const local = !sink.mountsFrom?.(base.remote.ref.registry);
  if (local) await downloadBaseLayers(client, base, layoutDir, 4, request.prepared.layoutDir);
  const paths = await remoteBasePaths(client, base, platforms, local ? layoutBlobDir(layoutDir) : undefined);
  return new Map(platforms.map((platform, position) => [formatPlatform(platform), paths[position]!]));
}
