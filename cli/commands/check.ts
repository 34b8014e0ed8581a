import { Command } from 'commander';
import { addBuildOptions, type BuildFlags } from '../build-options.js';
import { addImageOptions, type ImageFlags } from '../image-options.js';

export function checkCommand(): Command {
  return addImageOptions(addBuildOptions(new Command('check')))
    .description(
      'check goci.yaml, its platforms against this Go toolchain, its paths and images, as build would; build nothing',
    )
    .argument('[dirs...]', 'directories of Go main packages (or of a goci.yaml); default: the current directory')
    .action(async (dirs: string[], flags: BuildFlags & ImageFlags) =>
      (await import('../actions/check.js')).check(dirs, flags),
    );
}
