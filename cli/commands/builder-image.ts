import { Command } from 'commander';
import {
  DEFAULT_BUILDER_LAYOUT,
  DEFAULT_BUILDER_REPOSITORY,
  type BuilderImageSettings,
} from '../../pipeline/builder-image.js';
import { collect } from '../collect.js';

export interface BuilderImageFlags extends BuilderImageSettings {
  insecureRegistry?: string[];
  json?: boolean;
  verbose?: boolean;
}

export function builderImageCommand(): Command {
  return new Command('builder-image')
    .description(
      "build a Go image from this machine's Go toolchain, for the frontend's GO_IMAGE (BuildKit without internet, the CLI's Go)",
    )
    .option('--goroot <dir>', 'the toolchain to put in (default: GOROOT of the go on PATH)')
    .option('--shell', 'add /bin/sh and /usr/bin/env (for Dockerfile RUN lines in shell form)')
    .option(
      '--oci-layout <dir>',
      `OCI layout to write (default: ${DEFAULT_BUILDER_LAYOUT} when no other output is asked for)`,
    )
    .option('--tarball <file>', 'write one tar that docker load, skopeo and umoci read')
    .option('--load', 'load the image into the local Docker daemon')
    .option('--push <repository>', 'push the image to this repository')
    .option('-t, --tag <tag>', 'tag (repeatable; default: the Go version, e.g. 1.19.8 and 1.19)', collect)
    .option(
      '--repository <name>',
      `repository name of --tarball and --load (default: the --push repository, else ${DEFAULT_BUILDER_REPOSITORY})`,
    )
    .option(
      '--insecure-registry <host>',
      'allow plain HTTP to this registry (loopback always may) (repeatable)',
      collect,
    )
    .option('-v, --verbose', 'log each registry request (never a credential)')
    .option('--json', 'print the result as JSON')
    .action(async (flags: BuilderImageFlags) => (await import('../actions/builder-image.js')).builderImage(flags));
}
