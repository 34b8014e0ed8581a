import { Command } from 'commander';
import {
  DEFAULT_BUILDER_LAYOUT,
  DEFAULT_BUILDER_REPOSITORY,
  type BuilderImageSettings,
} from '../../pipeline/builder-image.js';
import { addHostImageOutputOptions, addRegistryOptions, type RegistryFlags } from '../registry-options.js';

export interface BuilderImageFlags extends BuilderImageSettings, RegistryFlags {}

export function builderImageCommand(): Command {
  const command = new Command('builder-image')
    .description(
      "build a Go image from this machine's Go toolchain, for the frontend's GO_IMAGE (BuildKit without internet, the CLI's Go)",
    )
    .option('--goroot <dir>', 'the toolchain to put in (default: GOROOT of the go on PATH)')
    .option('--shell', 'add /bin/sh and /usr/bin/env (for Dockerfile RUN lines in shell form)');
  const defaults = {
    layout: DEFAULT_BUILDER_LAYOUT,
    repository: DEFAULT_BUILDER_REPOSITORY,
    tags: 'the Go version, e.g. 1.19.8 and 1.19',
  };
  return addRegistryOptions(addHostImageOutputOptions(command, defaults)).action(async (flags: BuilderImageFlags) =>
    (await import('../actions/builder-image.js')).builderImage(flags),
  );
}
