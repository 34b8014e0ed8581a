import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { displayPath } from '../../common/display-path.js';
import { GociError } from '../../common/errors.js';
import { sourceDateEpoch } from '../../compiler/version.js';
import { connectToDocker, dockerSocketPath, loadIntoDocker } from '../../images/docker-daemon.js';
import { frontendImage, type FrontendImage } from '../../images/frontend-image.js';
import { blobPath, prepareLayout, tagInLayout } from '../../images/oci-layout.js';
import { writeTarball } from '../../images/tarball.js';
import { RegistryClients } from '../../registry/clients.js';
import { makeProgress, waitReporter } from '../progress.js';
import { pushImage } from '../../registry/push.js';
import { formatReference, parseReference, withDigest, type ImageRef } from '../../registry/reference.js';
import { collect } from '../collect.js';
import { isValidTag } from '../../registry/reference.js';

interface FrontendImageFlags {
  base: string;
  bundle?: string;
  ociLayout?: string;
  tarball?: string;
  load?: boolean;
  push?: string;
  tag?: string[];
  repository?: string;
  insecureRegistry?: string[];
  json?: boolean;
  verbose?: boolean;
}

/** What the command reports, as --json prints it. */
export interface FrontendImageResult {
  base: string;
  repository: string;
  tags: string[];
  index: { digest: string; size: number };
  manifest: { digest: string; platform: string; size: number };
  entrypoint: string[];
  ociLayout?: string;
  tarball?: string;
  loaded?: { imageId: string; tags: string[] };
  pushed?: string;
}

const DEFAULT_REPOSITORY = 'goci-frontend';
const DEFAULT_LAYOUT = join('dist', 'frontend-oci');

/**
 * lib/goci.mjs of the goci package this command runs from: the nearest directory upwards with a
 * package.json named goci (from the bundle itself, lib/goci.mjs → the package root).
 */
export function defaultBundle(from: string = dirname(fileURLToPath(import.meta.url))): string | undefined {
  for (let dir = from; ; dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) {
      try {
        if ((JSON.parse(readFileSync(manifest, 'utf8')) as { name?: unknown }).name === 'goci')
          return join(dir, 'lib', 'goci.mjs');
      } catch {
        // not a package manifest we can read; keep looking upwards
      }
    }
    if (dirname(dir) === dir) return undefined;
  }
}

export function frontendImageCommand(): Command {
  return new Command('frontend-image')
    .description(
      "build goci's BuildKit frontend image (the bundled CLI run by node) without Docker; Dockerfile.frontend is the Docker way",
    )
    .option(
      '--base <host|REF>',
      "host: this machine's node and its libraries; or a registry image with node on its PATH",
      'host',
    )
    .option('--bundle <file>', 'the bundled CLI to put in (default: lib/goci.mjs of this goci)')
    .option('--oci-layout <dir>', `OCI layout to write (default: ${DEFAULT_LAYOUT} when no other output is asked for)`)
    .option('--tarball <file>', 'write one tar that docker load, skopeo and umoci read')
    .option('--load', 'load the image into the local Docker daemon')
    .option('--push <repository>', 'push the image to this repository')
    .option('-t, --tag <tag>', 'tag (repeatable; default: latest)', collect)
    .option(
      '--repository <name>',
      `repository name of --tarball and --load (default: the --push repository, else ${DEFAULT_REPOSITORY})`,
    )
    .option(
      '--insecure-registry <host>',
      'allow plain HTTP to this registry (loopback always may) (repeatable)',
      collect,
    )
    .option('-v, --verbose', 'log each registry request (never a credential)')
    .option('--json', 'print the result as JSON')
    .action(async (flags: FrontendImageFlags) => {
      const result = await runFrontendImage(flags);
      process.stdout.write(flags.json ? `${JSON.stringify(result, null, 2)}\n` : describe(result));
    });
}

function checkTags(tags: string[]): string[] {
  for (const tag of tags) {
    if (!isValidTag(tag)) {
      throw new GociError(
        'BAD_ARGUMENT',
        `--tag ${tag}: not a valid tag (letters, digits, '_', '.', '-'; at most 128; not starting with '.' or '-')`,
      );
    }
  }
  return tags;
}

async function runFrontendImage(flags: FrontendImageFlags): Promise<FrontendImageResult> {
  const push = flags.push === undefined ? undefined : parseReference(flags.push);
  if (push?.digest)
    throw new GociError('BAD_ARGUMENT', `--push ${flags.push}: push to a repository or a tag, not a digest`);
  const tags = checkTags(flags.tag ?? (push?.tag ? [push.tag] : ['latest']));
  const repository = flags.repository ?? (push ? formatReference({ ...push, tag: undefined }) : DEFAULT_REPOSITORY);
  const bundle = resolve(flags.bundle ?? defaultBundle() ?? 'lib/goci.mjs');
  const epoch = sourceDateEpoch(process.env, {
    commit: undefined,
    commitTime: undefined,
    tag: undefined,
    distance: 0,
    dirty: false,
    sourceUrl: undefined,
  });
  const layoutDir =
    flags.ociLayout !== undefined || (!flags.tarball && !flags.load && !push)
      ? resolve(flags.ociLayout ?? DEFAULT_LAYOUT)
      : undefined;
  const verbose = flags.verbose ? (line: string) => process.stderr.write(`goci: ${line}\n`) : undefined;
  // Registry waits are printed as lines (this command has no live display).
  const progress = makeProgress('plain', flags.verbose === true);
  const onWait = waitReporter(() => progress);
  const clients = new RegistryClients({ insecureRegistries: flags.insecureRegistry ?? [], verbose, onWait });

  // Everything that can fail fast does, before any layer is written.
  if (layoutDir) await prepareLayout(layoutDir);
  if (flags.load) await connectToDocker(dockerSocketPath());
  if (push) await clients.for(push.registry).ping();

  const staging = layoutDir ?? (await mkdtemp(join(tmpdir(), 'goci-frontend-')));
  try {
    // A push to the base's own registry mounts its layers; every other output needs them here.
    const pushOnly = push !== undefined && !layoutDir && !flags.tarball && !flags.load;
    const baseRegistry = flags.base === 'host' ? undefined : parseReference(flags.base).registry;
    const image = await frontendImage({
      base: flags.base,
      bundle,
      layoutDir: staging,
      epoch,
      clientFor: (registry) => clients.for(registry),
      fetchBaseLayers: !(pushOnly && baseRegistry === push.registry),
    });
    const result: FrontendImageResult = {
      base: flags.base,
      repository,
      tags,
      index: { digest: image.index.digest, size: image.index.size },
      manifest: {
        digest: image.image.manifest.digest,
        platform: `${image.platform.os}/${image.platform.architecture}${image.platform.variant ? `/${image.platform.variant}` : ''}`,
        size:
          image.image.manifest.size +
          image.image.config.size +
          image.image.layers.reduce((sum, layer) => sum + layer.size, 0),
      },
      entrypoint: image.entrypoint,
    };
    if (layoutDir) {
      for (const tag of tags) await tagInLayout(layoutDir, image.indexDescriptor, tag);
      result.ociLayout = layoutDir;
    }
    if (flags.tarball || flags.load) Object.assign(result, await exportToDocker(image, repository, tags[0]!, flags));
    if (push) result.pushed = await pushTo(push, image, tags, clients);
    return result;
  } finally {
    if (!layoutDir) await rm(staging, { recursive: true, force: true });
  }
}

async function exportToDocker(
  image: FrontendImage,
  repository: string,
  tag: string,
  flags: FrontendImageFlags,
): Promise<Pick<FrontendImageResult, 'tarball' | 'loaded'>> {
  const scratch = flags.load ? await mkdtemp(join(tmpdir(), 'goci-load-')) : undefined;
  try {
    const path = flags.tarball ? resolve(flags.tarball) : join(scratch!, 'image.tar');
    await writeTarball(
      path,
      image.layoutDir,
      { repository, tag },
      [image.image],
      image.indexDescriptor,
      image.platform,
    );
    const loaded = flags.load ? await loadIntoDocker(path, {}) : undefined;
    return { ...(flags.tarball ? { tarball: path } : {}), ...(loaded ? { loaded } : {}) };
  } finally {
    if (scratch) await rm(scratch, { recursive: true, force: true });
  }
}

async function pushTo(
  target: ImageRef,
  image: FrontendImage,
  tags: string[],
  clients: RegistryClients,
): Promise<string> {
  const base = image.base;
  const mountable = new Map<string, string>(
    base && base.remote.ref.registry === target.registry
      ? base.remote.platforms.flatMap((platform) =>
          platform.layers.map((layer) => [layer.digest, base.remote.ref.repository] as const),
        )
      : [],
  );
  const result = await pushImage({
    client: clients.for(target.registry),
    repository: target.repository,
    blobFile: (digest) => blobPath(image.layoutDir, digest),
    images: [image.image],
    index: image.index,
    indexMediaType: image.indexDescriptor.mediaType,
    tags,
    mountable,
    concurrency: 4,
  });
  return formatReference(withDigest(target, result.digest));
}

function describe(result: FrontendImageResult): string {
  return [
    `frontend image ${result.repository}:${result.tags.join(', ')}  ${result.index.digest}`,
    `  ${result.manifest.platform}  ${result.manifest.digest}  base ${result.base}  entrypoint ${JSON.stringify(result.entrypoint)}`,
    ...(result.ociLayout ? [`oci layout: ${displayPath(result.ociLayout)} (tags ${result.tags.join(', ')})`] : []),
    ...(result.tarball ? [`tarball: ${displayPath(result.tarball)}`] : []),
    ...(result.loaded ? [`loaded into docker: ${result.loaded.tags.join(', ')} (${result.loaded.imageId})`] : []),
    ...(result.pushed ? [`pushed: ${result.pushed}`] : []),
    '',
  ].join('\n');
}
