import { dirname, join, resolve } from 'node:path';
import { Command } from 'commander';
import { displayPath } from '../../common/display-path.js';
import { GociError } from '../../common/errors.js';
import { found } from '../../common/found.js';
import { formatPlatform, hostLinuxPlatform, parsePlatform, type Platform } from '../../compiler/platform.js';
import { assembleImages, assemblyRequest, prepareBaseLayer, type AssembledImages } from '../../images/assemble.js';
import { downloadBaseLayers } from '../../images/base/download.js';
import { sbomArtifacts } from '../../images/sbom/artifacts.js';
import { resolveAnyBase } from '../../images/base/resolve.js';
import { RegistryClients } from '../../registry/clients.js';
import { attachToRegistry, type AttachedBy } from '../../registry/attach.js';
import { pushImage, type PushResult } from '../../registry/push.js';
import { formatReference, parseReference, withDigest, withTag, type ImageRef } from '../../registry/reference.js';
import { writeFileAtomic } from '../../common/atomic.js';
import { checkWritable } from '../../common/writable.js';
import { connectToDocker, dockerSocketPath, loadIntoDocker } from '../../images/docker-daemon.js';
import { ociPlatform } from '../../images/platform.js';
import { writeTarball } from '../../images/tarball.js';
import { findExtraFiles } from '../../images/extra-files.js';
import { fileEntries, type FoundFile } from '../../images/file-entries.js';
import { inspectBinary } from '../../compiler/binary/inspect.js';
import type { Binary } from '../../compiler/checked-binary.js';
import { fieldLocation } from '../../spec/load.js';
import { imageBuildIds, planImage, type ImagePlan } from '../../images/image-plan.js';
import { MEDIA_TYPES } from '../../images/media-types.js';
import type { BuildContext } from '../../compiler/context.js';
import { checkLayoutWritable, openLayoutStage, publishLayout, stagingFailure } from '../../images/layout-publish.js';
import type { LayoutUpdate } from '../../images/layout-publish.js';
import { uninterrupted } from '../../common/interrupt.js';
import { ownedScratch } from '../../common/owner.js';
import { FilePublication, type PublishedFile } from '../../common/publish.js';
import { makePlan, type Plan } from '../../compiler/plan.js';
import type { StagedBinaries } from '../../compiler/compile.js';
import type { ImageBase } from '../../images/assemble.js';
import type { ImageSpec, Spec } from '../../spec/schema.js';
import { addBuildOptions, compileRequest, distDir, type BuildFlags } from '../build-options.js';
import { addImageOptions, applyImageFlags, tagsFor, type ImageFlags } from '../image-options.js';
import { formatSize, renderTable } from '../table.js';
import { makeProgress, waitReporter, type Progress } from '../progress.js';
import { compilePlanStaged } from './compile.js';

/** What `goci build` reports per image, as --json prints it. */
export interface BuiltImage {
  repository: string;
  tags: string[];
  index: { digest: string; size: number };
  platforms: { platform: string; digest: string; size: number }[];
  ociLayout?: string;
  pushed?: Pushed;
  tarball?: string;
  loaded?: { imageId: string; tags: string[] };
}

export function buildCommand(): Command {
  return addImageOptions(addBuildOptions(new Command('build')))
    .description(
      'compile, then assemble a multi-arch image (no Docker needed) into an OCI layout; optionally a tarball or the local daemon',
    )
    .argument('[dirs...]', 'directories of Go main packages (or of a goci.yaml); default: the current directory')
    .action(async (dirs: string[], flags: BuildFlags & ImageFlags) => {
      // goci build makes Linux images: other platforms are refused before compiling (linuxOnly).
      const plan = await makePlan({ ...compileRequest(dirs, flags), linuxOnly: true });
      // Everything that can be wrong with the image settings is found before anything compiles.
      const progress = makeProgress(flags.progress, flags.verbose === true);
      const verbose = flags.verbose ? (line: string) => process.stderr.write(`goci: ${line}\n`) : undefined;
      // Registry waits (a base's or the push target's) show up in the progress display.
      const onWait = waitReporter(() => progress);
      const clients = new RegistryClients({ insecureRegistries: flags.insecureRegistry ?? [], verbose, onWait });
      // Each spec once, in target order, with the build context its targets share.
      const contexts = new Map<Spec, BuildContext>(plan.targets.map((target) => [target.spec, target.context]));
      const linuxPlatforms = (spec: Spec): Platform[] =>
        plan.targets
          .filter((target) => target.spec === spec && target.platform.os === 'linux')
          .map((target) => target.platform);
      const prepared = await Promise.all(
        [...contexts].map(([spec, context]) => prepareImage(spec, linuxPlatforms(spec), flags, clients, context)),
      );
      for (const image of prepared) await prepareOutputs(image, flags, clients);
      // The base layer needs no binary: build it (into goci's cache) while Go compiles.
      const warming = flags.dryRun
        ? []
        : prepared.map((image) =>
            prepareBaseLayer(
              image.base,
              found(
                plan.targets.find((target) => target.spec === image.spec),
                `a target of the image ${image.spec}`,
              ).stamp.epoch,
            ).catch(() => undefined),
          );
      try {
        const staged = await compilePlanStaged(plan, flags, progress);
        await Promise.all(warming);
        if (!staged) return;
        const results = await buildAndPublish(plan, prepared, staged, flags, progress, clients);
        progress.finish();
        if (flags.imageRefs)
          await writeFileAtomic(
            resolve(flags.imageRefs),
            results.flatMap((result) => (result.pushed ? [`${result.pushed.reference}\n`] : [])).join(''),
          );
        process.stdout.write(
          flags.json ? `${JSON.stringify({ images: results }, null, 2)}\n` : results.map(describeImage).join('\n'),
        );
      } finally {
        progress.finish();
      }
    });
}

/**
 * Builds every image into one staged layout (a hidden sibling of the layout, or $TMPDIR when
 * only pushing), then publishes the binaries, the layout's blobs and tags, and a --tarball as
 * one step: a run that fails or is stopped before the end leaves dist and the layout as they
 * were (issue 10, break 7).
 */
async function buildAndPublish(
  plan: Plan,
  prepared: PreparedImage[],
  staged: StagedBinaries,
  flags: BuildFlags & ImageFlags,
  progress: Progress,
  clients: RegistryClients,
): Promise<BuiltImage[]> {
  const layoutDir = prepared[0]?.layoutDir;
  try {
    const stage = await openLayoutStage(layoutDir);
    try {
      // Images read the binaries where they are staged; results name their final paths.
      const built: Binary<string>[] = await Promise.all(
        staged.inScratch.map(async (binary) => ({
          target: found(
            plan.targets.find(
              (target) => target.buildId === binary.build && formatPlatform(target.platform) === binary.platform,
            ),
            `the target of the compiled binary ${binary.build} ${binary.platform}`,
          ),
          report: await inspectBinary(binary.path),
          sha256: binary.sha256,
          source: binary.path,
        })),
      );
      const update: LayoutUpdate = { tags: [], attachments: [] };
      const files: PublishedFile[] = [...staged.files];
      const results: BuiltImage[] = [];
      try {
        for (const image of prepared) {
          const forImage = built.filter((item) => item.target.spec === image.spec);
          results.push(await buildImage(image, stage.dir, forImage, flags, progress, clients, update, files));
        }
      } catch (error) {
        throw stagingFailure(error, layoutDir);
      }
      const publication = new FilePublication(files);
      await uninterrupted(async () =>
        layoutDir ? publishLayout(stage.dir, layoutDir, update, publication) : publication.publish(),
      );
      for (const { ociLayout, tarball } of results) {
        if (ociLayout) progress.report({ kind: 'sink-done', sink: 'oci layout', where: displayPath(ociLayout) });
        if (tarball) progress.report({ kind: 'sink-done', sink: 'tarball', where: displayPath(tarball) });
      }
      return results;
    } finally {
      await stage.dispose();
    }
  } finally {
    await staged.dispose();
  }
}

/** An image's settings, checked, with its base resolved and its outputs ready to write. */
interface PreparedImage {
  spec: Spec;
  image: ImageSpec;
  base: ImageBase;
  /** What image.files names, walked and checked before anything compiles. */
  files: FoundFile<string>[][];
  /** The OCI layout to write; undefined when only pushing (blobs are then staged in a scratch layout). */
  layoutDir: string | undefined;
  push: ImageRef | undefined;
}

async function prepareImage(
  spec: Spec,
  platforms: Platform[],
  flags: BuildFlags & ImageFlags,
  clients: RegistryClients,
  context: BuildContext,
): Promise<PreparedImage> {
  const image = applyImageFlags(spec.image, flags);
  const push = flags.push === undefined ? undefined : parseReference(flags.push);
  if (push?.digest)
    throw new GociError('BAD_ARGUMENT', `--push ${flags.push}: push to a repository or a tag, not a digest`);
  tagsFor('0.0.0', flags, push?.tag);
  // image.files is walked and checked whole before anything is written or compiled.
  const where = (path: string): string => fieldLocation(spec, path);
  const files = await findExtraFiles(image.files, spec.baseDir, where, context);
  fileEntries(image.files, files, where);
  imageBuildIds(spec, image);
  const base = await resolveAnyBase(image.base, flags.base ? '--base' : 'image.base', {
    platforms,
    clientFor: (registry) => clients.for(registry),
  });
  const layoutDir =
    flags.ociLayout !== undefined || !push ? resolve(flags.ociLayout ?? join(distDir(flags), 'oci')) : undefined;
  return { spec, image, base, files, layoutDir, push };
}

/** Checks the outputs can be written (and reached) once every image's input was checked; creates nothing. */
async function prepareOutputs(
  prepared: PreparedImage,
  flags: BuildFlags & ImageFlags,
  clients: RegistryClients,
): Promise<void> {
  if (flags.dryRun) return;
  if (flags.tarball) await checkWritable(dirname(resolve(flags.tarball)), 'write the tarball into', '--tarball');
  if (prepared.layoutDir) await checkLayoutWritable(prepared.layoutDir);
  if (flags.load) await connectToDocker(dockerSocketPath());
  if (prepared.push) await clients.for(prepared.push.registry).ping();
}

/**
 * Builds one image into the run's staged layout `layoutDir`; what the real layout must record
 * (tags, SBOM attachments) goes into `update`, a --tarball into `files`, all published later.
 */
async function buildImage(
  prepared: PreparedImage,
  layoutDir: string,
  built: Binary<string>[],
  flags: BuildFlags & ImageFlags,
  progress: Progress,
  clients: RegistryClients,
  update: LayoutUpdate,
  files: PublishedFile[],
): Promise<BuiltImage> {
  const { spec, image, base, push } = prepared;
  const plan = planImage({ spec, image, binaries: built, base, files: prepared.files });
  const tags = tagsFor(built[0]!.target.stamp.version, flags, push?.tag);
  const loadPlatform = chooseLoadPlatform(plan, flags.loadPlatform);
  const name = `${push ? formatReference({ ...push, tag: undefined }) : plan.repository}:${tags[0]}`;
  progress.report({ kind: 'image-start', image: name, platforms: plan.platforms.length });
  const assembled = await assembleImages(assemblyRequest(plan, base, layoutDir, flags.format));
  progress.report({ kind: 'image-done', image: name, digest: assembled.index.digest });
  const indexDescriptor = {
    mediaType: MEDIA_TYPES[flags.format].index,
    digest: assembled.index.digest,
    size: assembled.index.size,
  };
  // A remote base's layers are needed locally unless the only output is a push to its own registry (then they are mounted).
  const mountOnly =
    push !== undefined &&
    !prepared.layoutDir &&
    !flags.tarball &&
    !flags.load &&
    base.kind === 'remote' &&
    base.remote.ref.registry === push.registry;
  if (base.kind === 'remote' && !mountOnly) {
    await downloadBaseLayers(clients.for(base.remote.ref.registry), base, layoutDir, 4, prepared.layoutDir);
  }
  const sboms =
    flags.sbom === 'none'
      ? []
      : sbomArtifacts(
          flags.sbom,
          name,
          assembled.images,
          plan.platforms.map((item) => item.entrypoint),
          plan.epoch,
        );
  if (prepared.layoutDir) {
    for (const [position, sbom] of sboms.entries()) {
      update.attachments.push({ artifact: sbom, subject: assembled.images[position]!.descriptor });
    }
    for (const tag of tags) update.tags.push({ tag, descriptor: indexDescriptor });
  }
  const pushed = push
    ? await pushTo(push, layoutDir, assembled, indexDescriptor.mediaType, tags, base, clients)
    : undefined;
  if (push && pushed) {
    for (const [position, sbom] of sboms.entries())
      pushed.sboms.push(
        await attachToRegistry(
          clients.for(push.registry),
          push.repository,
          sbom,
          assembled.images[position]!.descriptor,
          layoutDir,
        ),
      );
  }
  if (pushed) progress.report({ kind: 'sink-done', sink: 'registry', where: pushed.reference });
  const exported = await exportToDocker(plan, assembled, layoutDir, tags, loadPlatform, flags, files);
  if (exported.loaded)
    progress.report({ kind: 'sink-done', sink: 'docker daemon', where: exported.loaded.tags.join(', ') });
  return {
    ...exported,
    repository: plan.repository,
    tags,
    index: { digest: assembled.index.digest, size: assembled.index.size },
    platforms: assembled.images.map((item, index) => ({
      platform: formatPlatform(plan.platforms[index]!.platform),
      digest: item.manifest.digest,
      size: item.manifest.size + item.config.size + item.layers.reduce((sum, layer) => sum + layer.size, 0),
    })),
    ...(prepared.layoutDir ? { ociLayout: prepared.layoutDir } : {}),
    ...(pushed ? { pushed } : {}),
  };
}

/** What a push did: the digest reference CI deploys, the tags, and how each blob got there. */
interface Pushed {
  reference: string;
  tags: string[];
  blobs: PushResult['blobs'];
  /** How each platform's SBOM was attached. */
  sboms: AttachedBy[];
}

async function pushTo(
  target: ImageRef,
  layoutDir: string,
  assembled: AssembledImages,
  indexMediaType: string,
  tags: string[],
  base: ImageBase,
  clients: RegistryClients,
): Promise<Pushed> {
  const sameRegistry = base.kind === 'remote' && base.remote.ref.registry === target.registry;
  const mountable = new Map<string, string>(
    sameRegistry
      ? base.remote.platforms.flatMap((platform) =>
          platform.layers.map((layer) => [layer.digest, base.remote.ref.repository] as const),
        )
      : [],
  );
  const result = await pushImage({
    client: clients.for(target.registry),
    repository: target.repository,
    layoutDir,
    images: assembled.images,
    index: assembled.index,
    indexMediaType,
    tags,
    mountable,
    concurrency: 4,
  });
  return {
    reference: formatReference(withDigest(target, result.digest)),
    tags: tags.map((tag) => formatReference(withTag(target, tag))),
    blobs: result.blobs,
    sboms: [],
  };
}

function chooseLoadPlatform(plan: ImagePlan<string>, requested: string | undefined): Platform {
  const platforms = plan.platforms.map((image) => image.platform);
  const wanted = requested ? parsePlatform(requested, '--load-platform') : hostLinuxPlatform();
  const match = platforms.find((platform) => formatPlatform(platform) === formatPlatform(wanted));
  if (match) return match;
  if (requested)
    throw new GociError(
      'BAD_PLATFORM',
      `--load-platform ${requested}: the image has no such platform (it has ${platforms.map(formatPlatform).join(', ')})`,
    );
  return found(platforms[0], 'the first platform of the image');
}

/** Where --tarball and --load put the image, for the summary. */
interface DockerExport {
  tarball?: string;
  loaded?: { imageId: string; tags: string[] };
}

/**
 * --tarball and --load. Both use the docker-archive view of one platform (Docker 20.10's image
 * store holds one); --load writes that tarball to a scratch file and hands it to the daemon.
 */
async function exportToDocker(
  plan: ImagePlan<string>,
  assembled: AssembledImages,
  layoutDir: string,
  tags: string[],
  platform: Platform,
  flags: ImageFlags,
  files: PublishedFile[],
): Promise<DockerExport> {
  if (!flags.tarball && !flags.load) return {};
  const scratch = flags.load ? await ownedScratch('load') : undefined;
  try {
    // The tarball is written into the run's stage and published with everything else.
    const path = flags.tarball ? join(layoutDir, `tarball-${files.length}.tar`) : join(scratch!.dir, 'image.tar');
    if (flags.tarball) files.push({ from: path, to: resolve(flags.tarball) });
    const index = {
      mediaType: MEDIA_TYPES[flags.format].index,
      digest: assembled.index.digest,
      size: assembled.index.size,
    };
    await writeTarball(
      path,
      layoutDir,
      { repository: plan.repository, tag: tags[0]! },
      assembled.images,
      index,
      ociPlatform(platform),
    );
    const loaded = flags.load ? await loadIntoDocker(path, {}) : undefined;
    return { ...(flags.tarball ? { tarball: resolve(flags.tarball) } : {}), ...(loaded ? { loaded } : {}) };
  } finally {
    await scratch?.dispose();
  }
}

function describeImage(image: BuiltImage): string {
  const rows = image.platforms.map((platform) => [platform.platform, platform.digest, formatSize(platform.size)]);
  return [
    `image ${image.repository}:${image.tags.join(', ')}  ${image.index.digest}`,
    renderTable(['PLATFORM', 'MANIFEST', 'SIZE'], rows, [2]).trimEnd(),
    ...(image.ociLayout ? [`oci layout: ${displayPath(image.ociLayout)} (tags ${image.tags.join(', ')})`] : []),
    ...(image.pushed
      ? [
          `pushed: ${image.pushed.reference} (${image.pushed.tags.join(', ')}; blobs uploaded ${image.pushed.blobs.uploaded}, mounted ${image.pushed.blobs.mounted}, already there ${image.pushed.blobs.present})`,
        ]
      : []),
    ...(image.tarball ? [`tarball: ${displayPath(image.tarball)}`] : []),
    ...(image.loaded ? [`loaded into docker: ${image.loaded.tags.join(', ')} (${image.loaded.imageId})`] : []),
    '',
  ].join('\n');
}
