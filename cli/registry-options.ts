import type { Command } from 'commander';
import { displayPath } from '../common/display-path.js';
import type { PublishedHostImage } from '../pipeline/host-image-outputs.js';
import { RegistryClients } from '../registry/clients.js';
import { collect } from './collect.js';
import { makeProgress, waitReporter } from './progress.js';

/** The flags of a command that talks to registries and reports once at the end. */
export interface RegistryFlags {
  insecureRegistry?: string[];
  verbose?: boolean;
  json?: boolean;
}

/** --insecure-registry, --verbose and --json, as every such command has them. */
export function addRegistryOptions(command: Command): Command {
  return command
    .option(
      '--insecure-registry <host>',
      'allow plain HTTP to this registry (loopback always may) (repeatable)',
      collect,
    )
    .option('-v, --verbose', 'log each registry request (never a credential)')
    .option('--json', 'print the result as JSON');
}

/** The registry clients of such a command: requests logged with --verbose, waits printed as lines. */
export function registryClientsFor(flags: RegistryFlags): RegistryClients {
  const verbose = flags.verbose ? (line: string) => process.stderr.write(`goci: ${line}\n`) : undefined;
  // Registry waits are printed as lines (these commands have no live display).
  const progress = makeProgress('plain', flags.verbose === true);
  return new RegistryClients({
    insecureRegistries: flags.insecureRegistry ?? [],
    verbose,
    onWait: waitReporter(() => progress),
  });
}

/** Where an image goci makes of this machine's files goes: frontend-image and builder-image. */
export function addHostImageOutputOptions(
  command: Command,
  defaults: { layout: string; repository: string; tags: string },
): Command {
  return command
    .option('--oci-layout <dir>', `OCI layout to write (default: ${defaults.layout} when no other output is asked for)`)
    .option('--tarball <file>', 'write one tar that docker load, skopeo and umoci read')
    .option('--load', 'load the image into the local Docker daemon')
    .option('--push <repository>', 'push the image to this repository')
    .option('-t, --tag <tag>', `tag (repeatable; default: ${defaults.tags})`, collect)
    .option(
      '--repository <name>',
      `repository name of --tarball and --load (default: the --push repository, else ${defaults.repository})`,
    );
}

/** What a host-image command says of its image: its name, the detail line, and where it went. */
export function describeHostImage(title: string, detail: string, result: PublishedHostImage): string {
  return [
    `${title} ${result.repository}:${result.tags.join(', ')}  ${result.index.digest}`,
    `  ${result.manifest.platform}  ${result.manifest.digest}  ${detail}`,
    ...(result.ociLayout ? [`oci layout: ${displayPath(result.ociLayout)} (tags ${result.tags.join(', ')})`] : []),
    ...(result.tarball ? [`tarball: ${displayPath(result.tarball)}`] : []),
    ...(result.loaded ? [`loaded into docker: ${result.loaded.tags.join(', ')} (${result.loaded.imageId})`] : []),
    ...(result.pushed ? [`pushed: ${result.pushed}`] : []),
    '',
  ].join('\n');
}
