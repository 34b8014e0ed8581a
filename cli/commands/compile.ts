import { Command } from 'commander';
import { addBuildOptions, type BuildFlags } from '../build-options.js';

export function compileCommand(): Command {
  return addBuildOptions(new Command('compile'))
    .description('cross-compile static, stamped Go binaries into <dist>/bin')
    .argument('[dirs...]', 'directories of Go main packages (or of a goci.yaml); default: the current directory')
    .action(async (dirs: string[], flags: BuildFlags) => (await import('../actions/compile.js')).compile(dirs, flags));
}
