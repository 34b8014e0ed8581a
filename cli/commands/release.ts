import { Command } from 'commander';
import { addBuildOptions, type BuildFlags } from '../build-options.js';

export function releaseCommand(): Command {
  return addBuildOptions(new Command('release'))
    .description(
      'compile every target and package each into a reproducible archive with checksums.txt in <dist>/release',
    )
    .argument('[dirs...]', 'directories of Go main packages (or of a goci.yaml); default: the current directory')
    .action(async (dirs: string[], flags: BuildFlags) => (await import('../actions/release.js')).release(dirs, flags));
}
