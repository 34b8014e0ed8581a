import { displayPath } from '../../common/display-path.js';
import { buildFrontendImage, type FrontendImageResult } from '../../pipeline/frontend-image.js';
import type { FrontendImageFlags } from '../commands/frontend-image.js';
import { registryClientsFor } from '../registry-options.js';

/** `goci frontend-image`: build the frontend image to the outputs asked for and say where it went. */
export async function frontendImage(flags: FrontendImageFlags): Promise<void> {
  const clients = registryClientsFor(flags);
  const result = await buildFrontendImage(flags, clients);
  process.stdout.write(flags.json ? `${JSON.stringify(result, null, 2)}\n` : describe(result));
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
