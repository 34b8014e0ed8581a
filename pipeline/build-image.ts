import { formatPlatform } from '../compiler/platform.js';
import type { Binary } from '../compiler/checked-binary.js';
import { assembleImages, assemblyRequest, type RemoteBaseLayers } from '../images/assemble.js';
import { remoteBasePaths } from '../images/base/paths.js';
import type { PathsBelow } from '../images/paths-below.js';
import { layoutBlobDir } from '../oci/layout.js';
import type { Platform } from '../oci/platform.js';
import type { Sink } from '../sinks/sink.js';
import { downloadBaseLayers } from '../images/base/download.js';
import { planImage } from '../images/image-plan.js';
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

export interface ImageBuild {
  prepared: PreparedImage;
  /** The image's binaries, checked, read where they are staged. */
  built: Binary<string>[];
  settings: RunSettings;
  outputs: StagedOutputs;
  clients: RegistryClients;
  progress: Progress;
}

/**
 * One image: planImage → assemble (into the run's staged layout) → the Index value with its
 * SBOMs as referrers → its sinks.
 */
export async function buildImage(request: ImageBuild): Promise<BuiltImage> {
  const { prepared, built, settings, outputs, progress } = request;
  const { spec, image, base, push } = prepared;
  const layoutDir = outputs.store.dir;
  const plan = planImage({ spec, image, binaries: built, base, files: prepared.files });
  const stamp = built[0]!.target.stamp;
  const tags = tagsFor(stamp.version, settings, push?.tag);
  const platforms = plan.platforms.map((item) => item.platform);
  const loadPlatform = chooseLoadPlatform(platforms, settings.loadPlatform);
  const name = `${push ? formatReference({ ...push, tag: undefined }) : plan.repository}:${tags[0]}`;
  progress.report({ kind: 'image-start', image: name, platforms: plan.platforms.length });
  const sink = imageSinks({ ...request, repository: plan.repository, loadPlatform });
  const remoteBelow = base.kind === 'remote' ? await remoteBase(request, base, platforms, sink) : undefined;
  const assembled = await assembleImages(assemblyRequest(plan, base, layoutDir, settings.format, remoteBelow));
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
    sources: base.kind === 'remote' ? remoteLayerSources(base) : new Map(),
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
}

/**
 * A registry base's layers, downloaded into the run's layout unless every sink mounts them from
 * their registry, and its paths per platform (read from those blobs, or from goci's cache).
 */
async function remoteBase(
  request: ImageBuild,
  base: RemoteBaseLayers,
  platforms: Platform[],
  sink: Sink,
): Promise<PathsBelow[]> {
  const client = request.clients.for(base.remote.ref.registry);
  const layoutDir = request.outputs.store.dir;
  const local = !sink.mountsFrom?.(base.remote.ref.registry);
  if (local) await downloadBaseLayers(client, base, layoutDir, 4, request.prepared.layoutDir);
  return remoteBasePaths(client, base, platforms, local ? layoutBlobDir(layoutDir) : undefined);
}
