import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GociError } from '../common/errors.js';
import { sourceDateEpoch } from '../compiler/version.js';
import { NO_SOURCE_STATE } from '../compiler/git.js';
import { remoteLayerSources } from '../images/base/layer-sources.js';
import { frontendImage } from '../images/frontend-image.js';
import { indexValue } from '../oci/index-value.js';
import type { RegistryClients } from '../registry/clients.js';
import { formatReference, parseReference } from '../registry/reference.js';
import { dockerDaemonSink } from '../sinks/docker-daemon.js';
import { connectToDocker, dockerSocketPath } from '../sinks/docker-client.js';
import { checkLayoutWritable } from '../sinks/layout-publish.js';
import { layoutSink } from '../sinks/oci-layout.js';
import { registrySink } from '../sinks/registry.js';
import type { Sink } from '../sinks/sink.js';
import { openStagedOutputs, type StagedOutputs } from '../sinks/staged-outputs.js';
import { tarballSink } from '../sinks/tarball.js';
import { tee } from '../sinks/tee.js';
import {
  DEFAULT_FRONTEND_LAYOUT,
  DEFAULT_FRONTEND_REPOSITORY,
  type FrontendImageSettings,
} from './frontend-image-settings.js';
import { checkedTags } from './image-settings.js';

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

/**
 * lib/goci.cjs of the goci package this code runs from: the nearest directory upwards with a
 * package.json named goci (from the bundle itself, lib/goci.cjs → the package root).
 */
export function defaultBundle(from: string = dirname(fileURLToPath(import.meta.url))): string | undefined {
  for (let dir = from; ; dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) {
      try {
        if ((JSON.parse(readFileSync(manifest, 'utf8')) as { name?: unknown }).name === 'goci')
          return join(dir, 'lib', 'goci.cjs');
      } catch {
        // not a package manifest we can read; keep looking upwards
      }
    }
    if (dirname(dir) === dir) return undefined;
  }
}

/**
 * goci's BuildKit frontend image (the bundle run by node), written through the same sinks as
 * `goci build`: staged, then the layout, registry, tarball and docker daemon in one publication.
 */
export async function buildFrontendImage(
  settings: FrontendImageSettings,
  clients: RegistryClients,
): Promise<FrontendImageResult> {
  const push = settings.push === undefined ? undefined : parseReference(settings.push);
  if (push?.digest)
    throw new GociError('BAD_ARGUMENT', `--push ${settings.push}: push to a repository or a tag, not a digest`);
  const tags = checkedTags(settings.tag ?? (push?.tag ? [push.tag] : ['latest']));
  const repository =
    settings.repository ?? (push ? formatReference({ ...push, tag: undefined }) : DEFAULT_FRONTEND_REPOSITORY);
  const layoutDir =
    settings.ociLayout !== undefined || (!settings.tarball && !settings.load && !push)
      ? resolve(settings.ociLayout ?? DEFAULT_FRONTEND_LAYOUT)
      : undefined;
  // Everything that can fail fast does, before any layer is written.
  if (layoutDir) await checkLayoutWritable(layoutDir);
  if (settings.load) await connectToDocker(dockerSocketPath());
  if (push) await clients.for(push.registry).ping();
  const outputs = await openStagedOutputs(layoutDir, []);
  try {
    const result = await writeFrontendImage(settings, outputs, clients, { repository, tags, layoutDir });
    await outputs.publish();
    return result;
  } finally {
    await outputs.dispose();
  }
}

async function writeFrontendImage(
  settings: FrontendImageSettings,
  outputs: StagedOutputs,
  clients: RegistryClients,
  names: { repository: string; tags: string[]; layoutDir: string | undefined },
): Promise<FrontendImageResult> {
  const push = settings.push === undefined ? undefined : parseReference(settings.push);
  const baseRegistry = settings.base === 'host' ? undefined : parseReference(settings.base).registry;
  const pushOnly = push !== undefined && !names.layoutDir && !settings.tarball && !settings.load;
  const sinks: Sink[] = [];
  if (names.layoutDir) sinks.push(layoutSink(outputs));
  if (push) sinks.push(registrySink(clients.for(push.registry), push));
  const image = await frontendImage({
    base: settings.base,
    bundle: resolve(settings.bundle ?? defaultBundle() ?? 'lib/goci.cjs'),
    layoutDir: outputs.store.dir,
    epoch: sourceDateEpoch(process.env, NO_SOURCE_STATE),
    clientFor: (registry) => clients.for(registry),
    // A push to the base's own registry mounts its layers; every other output needs them here.
    fetchBaseLayers: !(pushOnly && baseRegistry === push.registry),
  });
  const archive = { repository: names.repository, platform: image.platform };
  if (settings.tarball) sinks.push(tarballSink(outputs, settings.tarball, archive));
  if (settings.load) sinks.push(dockerDaemonSink(archive));
  const index = indexValue({
    index: image.index,
    mediaType: image.indexDescriptor.mediaType,
    images: [image.image],
    referrers: [],
    store: outputs.store,
    sources: remoteLayerSources(image.base),
  });
  const outcome = await tee(...sinks).write(index, names.tags);
  const { manifest, config, layers } = image.image;
  return {
    base: settings.base,
    repository: names.repository,
    tags: names.tags,
    index: { digest: image.index.digest, size: image.index.size },
    manifest: {
      digest: manifest.digest,
      platform: `${image.platform.os}/${image.platform.architecture}${image.platform.variant ? `/${image.platform.variant}` : ''}`,
      size: manifest.size + config.size + layers.reduce((sum, layer) => sum + layer.size, 0),
    },
    entrypoint: image.entrypoint,
    ...(outcome.ociLayout ? { ociLayout: outcome.ociLayout } : {}),
    ...(outcome.tarball ? { tarball: outcome.tarball } : {}),
    ...(outcome.loaded ? { loaded: outcome.loaded } : {}),
    ...(outcome.pushed ? { pushed: outcome.pushed.reference } : {}),
  };
}
