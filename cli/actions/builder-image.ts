import { displayPath } from '../../common/display-path.js';
import { buildBuilderImage, type BuilderImageResult } from '../../pipeline/builder-image.js';
import { RegistryClients } from '../../registry/clients.js';
import type { BuilderImageFlags } from '../commands/builder-image.js';
import { makeProgress, waitReporter } from '../progress.js';

/** `goci builder-image`: the Go image of this machine's toolchain, to the outputs asked for. */
export async function builderImage(flags: BuilderImageFlags): Promise<void> {
  const verbose = flags.verbose ? (line: string) => process.stderr.write(`goci: ${line}\n`) : undefined;
  const progress = makeProgress('plain', flags.verbose === true);
  const onWait = waitReporter(() => progress);
  const clients = new RegistryClients({ insecureRegistries: flags.insecureRegistry ?? [], verbose, onWait });
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
