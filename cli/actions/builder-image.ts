import { displayPath } from '../../common/display-path.js';
import { buildBuilderImage, type BuilderImageResult } from '../../pipeline/builder-image.js';
import type { BuilderImageFlags } from '../commands/builder-image.js';
import { registryClientsFor } from '../registry-options.js';

/** `goci builder-image`: the Go image of this machine's toolchain, to the outputs asked for. */
export async function builderImage(flags: BuilderImageFlags): Promise<void> {
  const clients = registryClientsFor(flags);
  const result = await buildBuilderImage(flags, clients);
  process.stdout.write(flags.json ? `${JSON.stringify(result, null, 2)}\n` : describe(result));
}

function describe(result: BuilderImageResult): string {
  return [
    `go builder image ${result.repository}:${result.tags.join(', ')}  ${result.index.digest}`,
    `  ${result.manifest.platform}  ${result.manifest.digest}  ${result.goVersion}`,
    ...(result.ociLayout ? [`oci layout: ${displayPath(result.ociLayout)} (tags ${result.tags.join(', ')})`] : []),
    ...(result.tarball ? [`tarball: ${displayPath(result.tarball)}`] : []),
    ...(result.loaded ? [`loaded into docker: ${result.loaded.tags.join(', ')} (${result.loaded.imageId})`] : []),
    ...(result.pushed ? [`pushed: ${result.pushed}`] : []),
    '',
  ].join('\n');
}
