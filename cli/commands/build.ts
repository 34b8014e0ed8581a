import { Command } from 'commander';
import type { BuiltImage } from '../../pipeline/built-image.js';
import { addBuildOptions, type BuildFlags } from '../build-options.js';
import { addImageOptions, type ImageFlags } from '../image-options.js';

export type { BuiltImage };

export function buildCommand(): Command {
  return addImageOptions(addBuildOptions(new Command('build')))
    .description(
      'compile, then assemble a multi-arch image (no Docker needed) into an OCI layout; optionally a tarball or the local daemon',
    )
    .argument('[dirs...]', 'directories of Go main packages (or of a goci.yaml); default: the current directory')
    .action(async (dirs: string[], flags: BuildFlags & ImageFlags) =>
      (await import('../actions/build.js')).build(dirs, flags),
    );
}
