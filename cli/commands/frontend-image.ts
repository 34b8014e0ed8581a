import { Command } from 'commander';
import {
  DEFAULT_FRONTEND_LAYOUT,
  DEFAULT_FRONTEND_REPOSITORY,
  type FrontendImageSettings,
} from '../../pipeline/frontend-image-settings.js';
import { collect } from '../collect.js';

export interface FrontendImageFlags extends FrontendImageSettings {
  insecureRegistry?: string[];
  json?: boolean;
  verbose?: boolean;
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
    .option('--bundle <file>', 'the bundled CLI to put in (default: lib/goci.cjs of this goci)')
    .option(
      '--oci-layout <dir>',
      `OCI layout to write (default: ${DEFAULT_FRONTEND_LAYOUT} when no other output is asked for)`,
    )
    .option('--tarball <file>', 'write one tar that docker load, skopeo and umoci read')
    .option('--load', 'load the image into the local Docker daemon')
    .option('--push <repository>', 'push the image to this repository')
    .option('-t, --tag <tag>', 'tag (repeatable; default: latest)', collect)
    .option(
      '--repository <name>',
      `repository name of --tarball and --load (default: the --push repository, else ${DEFAULT_FRONTEND_REPOSITORY})`,
    )
    .option(
      '--insecure-registry <host>',
      'allow plain HTTP to this registry (loopback always may) (repeatable)',
      collect,
    )
    .option('-v, --verbose', 'log each registry request (never a credential)')
    .option('--json', 'print the result as JSON')
    .action(async (flags: FrontendImageFlags) => (await import('../actions/frontend-image.js')).frontendImage(flags));
}
