import { Command } from 'commander';
import type { InitFlags } from '../actions/init.js';

export function initCommand(): Command {
  return new Command('init')
    .description(
      "write a goci.yaml for the module's main packages (a build each, an image per service); git-ignore dist/",
    )
    .argument('[dir]', 'where goci.yaml goes (default: the current directory)')
    .option('--force', 'replace an existing goci.yaml')
    .action(async (dir: string | undefined, flags: InitFlags) => (await import('../actions/init.js')).init(dir, flags));
}
