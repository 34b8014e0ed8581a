import { relative, sep } from 'node:path';
import type { SigningKey } from '../common/signing-key.js';
import { repositoryRoot } from '../compiler/git.js';
import { formatPlatform } from '../compiler/platform.js';
import { LAYER_COMPRESSION } from '../images/layer.js';
import { inTotoStatement } from '../images/in-toto.js';
import { SLSA_PROVENANCE_V1, provenanceBase, provenanceStatement } from '../images/provenance.js';
import { artifactFor, type Artifact } from '../oci/artifact.js';
import type { Descriptor, JsonBlob } from '../oci/descriptor.js';
import { DSSE_MEDIA_TYPE, dsseEnvelope } from '../oci/dsse.js';
import { signatureBundleArtifact } from '../oci/sigstore-bundle.js';
import { rfc3339 } from '../oci/image-config.js';
import type { Binary } from '../compiler/checked-binary.js';
import {
  assembleImages,
  assemblyRequest,
  builtInBaseInCache,
  earlyPlatform,
  type Beneath,
  type RemoteBaseLayers,
} from '../images/assemble.js';
import { found } from '../common/found.js';
import type { Target } from '../compiler/plan.js';
import { remoteBasePaths } from '../images/base/paths.js';
import type { PathsBelow } from '../images/paths-below.js';
import type { Platform } from '../oci/platform.js';
import type { Sink } from '../sinks/sink.js';
import { downloadBaseLayers } from '../images/base/download.js';
import { planImage } from '../images/image-plan.js';
import { entrypointBuildId, imageBuildIds, imageRepository } from '../spec/image-builds.js';
import { MEDIA_TYPES } from '../oci/media-types.js';
import { SBOM_PREDICATE_TYPES, sbomArtifacts } from '../images/sbom/artifacts.js';
import { indexValue } from '../oci/index-value.js';
import { remoteLayerSources } from '../images/base/layer-sources.js';
import type { RegistryClients } from '../registry/clients.js';
import { formatReference, type ImageRef } from '../registry/reference.js';
import { registrySink } from '../sinks/registry.js';
import type { StagedOutputs } from '../sinks/staged-outputs.js';
import type { BuiltImage } from './built-image.js';
import { imageSinks } from './image-sinks.js';
import { chooseLoadPlatform } from './load-platform.js';
import type { PreparedImage, RunSettings } from './prepare-image.js';
import type { Progress } from './progress.js';

export interface ImageStart {
  prepared: PreparedImage;
  /** The plan's targets of this image's spec: which binaries it waits for. */
  targets: Target[];
  /** Set when the run makes several images: the layout names this one `<prefix>:<tag>` so none overwrites another. */
  layoutRefPrefix: string | undefined;
  settings: RunSettings;
  clients: RegistryClients;
  progress: Progress;
}

/** One image of a run, started before anything compiles. */
export interface ImageRun {
  /**
   * A binary of the run is built and checked: when pushing, once all of a platform's are there,
   * that platform's binaries layer is written into goci's cache and its upload begins, while
   * other targets compile. Nothing is written to any output.
   */
  onBinary(binary: Binary<string>): void;
  /**
   * planImage → assemble into the staged outputs (finding the layers written early) → the Index
   * with its SBOMs → the sinks.
   */
  finish(built: Binary<string>[], outputs: StagedOutputs): Promise<BuiltImage>;
  /** Resolves once nothing started by onBinary is still running. */
  settled(): Promise<void>;
}

/** The linux platforms of an image's targets, each once, in target order. */
function platformsOf(targets: Target[]): Platform[] {
  const seen = new Map<string, Platform>();
  for (const { platform } of targets) if (platform.os === 'linux') seen.set(formatPlatform(platform), platform);
  return [...seen.values()];
}

/**
 * Starts one image: what it is called and where it loads are settled now (a bad --load-platform
 * is found before compiling), the push's registry sink is made (it takes layers early), each
 * platform's binaries layer is written as its binaries arrive (onBinary), and finish() puts the
 * image together once every binary is built.
 */
export function startImage(request: ImageStart): ImageRun {
  const { prepared, settings, progress } = request;
  const { spec, image, base, push } = prepared;
  const builds = imageBuildIds(spec, image);
  const targets = request.targets.filter((target) => builds.includes(target.buildId));
  const entrypoint = entrypointBuildId(spec, image);
  const entrypointTarget = found(
    targets.find((target) => target.buildId === entrypoint),
    `a target of the entrypoint build "${entrypoint}"`,
  );
  const repository = imageRepository(image, entrypointTarget.binary);
  const loadPlatform = chooseLoadPlatform(platformsOf(targets), settings.loadPlatform);
  const pushSink = push && pushingSink(request, push);
  let remotePaths: Promise<Map<string, PathsBelow>> | undefined;
  /** A registry base's paths per platform: its layers' listings, from goci's cache or read once. */
  const remoteBelow = (): Promise<Map<string, PathsBelow>> | undefined => {
    if (base.kind !== 'remote') return undefined;
    remotePaths ??= remoteBasePathsOf(request, base, platformsOf(targets));
    return remotePaths;
  };
  const belowOf = (paths: Map<string, PathsBelow> | undefined, platforms: Platform[]): PathsBelow[] | undefined =>
    paths && platforms.map((platform) => found(paths.get(formatPlatform(platform)), formatPlatform(platform)));
  const baseLayers = base.kind === 'remote' ? remoteLayerSources(base) : new Map();

  let builtIn: Promise<Beneath | undefined> | undefined;
  const writeEarly = async (binaries: Binary<string>[]): Promise<void> => {
    if (!pushSink) return;
    const plan = planImage({ spec, image, binaries, base, files: prepared.files });
    const platforms = plan.platforms.map((item) => item.platform);
    const assembly = assemblyRequest(plan, base, '', settings.format, belowOf(await remoteBelow(), platforms));
    // The built-in base from the cache once per image (its layer hashed and listed once), not per platform.
    builtIn ??= builtInBaseInCache(base, plan.epoch);
    const early = await earlyPlatform(assembly, await builtIn);
    if (!early) return;
    if (early.image) pushSink.earlyImage?.(early.image.manifest, early.image.layerFiles);
    // A layer the registry base holds already is mounted from there when the index is written.
    else if (!baseLayers.has(early.binaries.digest)) pushSink.early?.(early.binaries, early.binaries.blobPath);
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
      // Only a push gains from a layer made early (its upload overlaps the other links; compressing
      // alone would just share the cores Go is using). A failure here is found again, and reported,
      // by finish(), which does the same work.
      if (pushSink && builds.every((id) => binaries.some((item) => item.target.buildId === id)))
        early.push(writeEarly(binaries).catch(() => undefined));
    },
    settled: async () => {
      await Promise.all(early);
    },
    async finish(built, outputs) {
      await Promise.all(early);
      const plan = planImage({ spec, image, binaries: built, base, files: prepared.files });
      const { tags } = prepared;
      const platforms = plan.platforms.map((item) => item.platform);
      // Where the image goes: the push target's repository when pushing, else its name.
      const destination = push ? formatReference({ ...push, tag: undefined }) : plan.repository;
      const name = `${destination}:${tags[0]}`;
      progress.report({ kind: 'image-start', image: name, platforms: plan.platforms.length });
      const sink = imageSinks({ ...request, outputs, repository, loadPlatform, registry: pushSink });
      if (base.kind === 'remote') await downloadIfNeeded(request, base, sink, outputs);
      const below = belowOf(await remoteBelow(), platforms);
      const assembly = assemblyRequest(plan, base, outputs.store.dir, settings.format, below);
      // Without an OCI layout to publish, the staged one is scratch space that the run reads and removes.
      const placement = outputs.layoutDir === undefined ? 'link' : 'copy';
      const assembled = await assembleImages({ ...assembly, placement });
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
      const root = settings.provenance ? await repositoryRoot(spec.baseDir) : undefined;
      const directory = root === undefined ? '.' : relative(root, spec.baseDir).split(sep).join('/') || '.';
      const subjectOf = (position: number): Descriptor => assembled.images[position]!.descriptor;
      const provenances = settings.provenance
        ? assembled.images.map((image, position) =>
            attestationArtifact(
              image.descriptor,
              provenanceStatement(sbomName, image.descriptor.digest, {
                platform: formatPlatform(platforms[position]!),
                specFile: spec.file ? relative(spec.baseDir, spec.file).split(sep).join('/') : '(none)',
                directory,
                imageFlags: imageFlagsOf(settings),
                stamp: entrypointTarget.stamp,
                binary: plan.platforms[position]!.entrypoint.report,
                base: provenanceBase(
                  base.kind === 'remote' ? { name: base.name, digest: base.remote.digest } : undefined,
                  base.name,
                ),
                sbom: settings.sbom,
                builder: { kind: 'cli', compression: { ...LAYER_COMPRESSION } },
              }),
              SLSA_PROVENANCE_V1,
              plan.epoch,
              settings.signingKey,
            ),
          )
        : [];
      // Signing, the SBOMs are attested too: each document as an in-toto statement about its image, signed.
      const key = settings.signingKey;
      const sbomFormat = settings.sbom;
      const sbomAttestations =
        key && sbomFormat !== 'none'
          ? sboms.map((artifact, position) =>
              attestationArtifact(
                subjectOf(position),
                inTotoStatement(
                  sbomName,
                  subjectOf(position).digest,
                  SBOM_PREDICATE_TYPES[sbomFormat],
                  JSON.parse(artifact.payload.bytes.toString('utf8')),
                ),
                SBOM_PREDICATE_TYPES[sbomFormat],
                plan.epoch,
                key,
              ),
            )
          : [];
      const indexDescriptor: Descriptor = {
        mediaType: MEDIA_TYPES[settings.format].index,
        digest: assembled.index.digest,
        size: assembled.index.size,
      };
      // Signing, the index and each platform image get a Sigstore bundle, which goes wherever the image goes.
      const bundles = key
        ? [indexDescriptor, ...assembled.images.map((image) => image.descriptor)].map((subject) => ({
            artifact: signatureBundleArtifact(subject, key, rfc3339(plan.epoch)),
            subject,
          }))
        : [];
      const index = indexValue({
        index: assembled.index,
        mediaType: MEDIA_TYPES[settings.format].index,
        images: assembled.images,
        referrers: [
          ...sboms.map((artifact, position) => ({ artifact, subject: subjectOf(position) })),
          ...provenances.map((artifact, position) => ({ artifact, subject: subjectOf(position) })),
          ...sbomAttestations.map((artifact, position) => ({ artifact, subject: subjectOf(position) })),
          ...bundles,
        ],
        store: outputs.store,
        sources: baseLayers,
      });
      const { tarball, loaded, ociLayout, ociLayoutRefs, pushed } = await sink.write(index, tags);
      return {
        ...(tarball ? { tarball } : {}),
        ...(loaded ? { loaded } : {}),
        repository: destination,
        name: plan.repository,
        mainPackage: prepared.mainPackage,
        tags,
        index: { digest: assembled.index.digest, size: assembled.index.size },
        platforms: assembled.images.map((item, position) => ({
          platform: formatPlatform(platforms[position]!),
          digest: item.manifest.digest,
          size: item.manifest.size + item.config.size + item.layers.reduce((sum, layer) => sum + layer.size, 0),
        })),
        ...(ociLayout ? { ociLayout, ociLayoutRefs } : {}),
        ...(pushed ? { pushed } : {}),
      };
    },
  };
}

/** The registry sink of a push, made before compiling so that it can take layers early. */
function pushingSink(request: ImageStart, push: ImageRef): Sink {
  const client = request.clients.for(push.registry);
  const reportPushed = (where: string): void => request.progress.report({ kind: 'sink-done', sink: 'registry', where });
  return registrySink(client, push, reportPushed);
}

/** A registry base's layers, into the run's staged layout unless every sink mounts them from their registry. */
async function downloadIfNeeded(
  request: ImageStart,
  base: RemoteBaseLayers,
  sink: Sink,
  outputs: StagedOutputs,
): Promise<void> {
  if (sink.mountsFrom?.(base.remote.ref.registry)) return;
  const client = request.clients.for(base.remote.ref.registry);
  await downloadBaseLayers(client, base, outputs.store.dir, 4, request.prepared.layoutDir);
}

/** A registry base's paths per platform, by platform name (its layers read once, their listings cached by digest). */
async function remoteBasePathsOf(
  request: ImageStart,
  base: RemoteBaseLayers,
  platforms: Platform[],
): Promise<Map<string, PathsBelow>> {
  const client = request.clients.for(base.remote.ref.registry);
  const paths = await remoteBasePaths(client, base, platforms, undefined);
  return new Map(platforms.map((platform, position) => [formatPlatform(platform), paths[position]!]));
}

/** An in-toto statement about one platform image as a referrer: in a DSSE envelope, signed when a key is given. */
function attestationArtifact(
  subject: Descriptor,
  statement: JsonBlob,
  predicateType: string,
  epoch: number,
  key: SigningKey | undefined,
): Artifact {
  const envelope = dsseEnvelope(statement, key && ((bytes) => key.sign(bytes)));
  return artifactFor(subject, DSSE_MEDIA_TYPE, envelope, {
    'org.opencontainers.image.created': rfc3339(epoch),
    'dev.goci.predicate-type': predicateType,
  });
}

/** The flags that shape an image (not where it goes): what a rebuild must be given to make the same one. */
function imageFlagsOf(settings: RunSettings): Record<string, unknown> {
  const shaping = [
    'base',
    'format',
    'repository',
    'label',
    'annotation',
    'env',
    'user',
    'workdir',
    'port',
    'arg',
    'entrypoint',
  ] as const;
  return Object.fromEntries(shaping.flatMap((name) => (settings[name] === undefined ? [] : [[name, settings[name]]])));
}
