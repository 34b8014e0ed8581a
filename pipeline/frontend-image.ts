import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NO_SOURCE_STATE } from '../compiler/git.js';
import { sourceDateEpoch } from '../compiler/version.js';
import { remoteLayerSources } from '../images/base/layer-sources.js';
import { frontendImage } from '../images/frontend-image.js';
import type { RegistryClients } from '../registry/clients.js';
import { parseReference } from '../registry/reference.js';
import {
  DEFAULT_FRONTEND_LAYOUT,
  DEFAULT_FRONTEND_REPOSITORY,
  type FrontendImageSettings,
} from './frontend-image-settings.js';
import { publishHostImage, type PublishedHostImage } from './host-image-outputs.js';

/** What the command reports, as --json prints it. */
export interface FrontendImageResult extends PublishedHostImage {
  base: string;
  entrypoint: string[];
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
  const baseRegistry = settings.base === 'host' ? undefined : parseReference(settings.base).registry;
  let entrypoint: string[] = [];
  const defaults = { repository: DEFAULT_FRONTEND_REPOSITORY, ociLayout: DEFAULT_FRONTEND_LAYOUT, tags: ['latest'] };
  const published = await publishHostImage(settings, defaults, clients, async ({ storeDir, push, pushOnly }) => {
    const image = await frontendImage({
      base: settings.base,
      bundle: resolve(settings.bundle ?? defaultBundle() ?? 'lib/goci.cjs'),
      layoutDir: storeDir,
      epoch: sourceDateEpoch(process.env, NO_SOURCE_STATE),
      clientFor: (registry) => clients.for(registry),
      // A push to the base's own registry mounts its layers; every other output needs them here.
      fetchBaseLayers: !(pushOnly && baseRegistry === push?.registry),
    });
    entrypoint = image.entrypoint;
    return { image, sources: remoteLayerSources(image.base) };
  });
  return { base: settings.base, ...published, entrypoint };
}
