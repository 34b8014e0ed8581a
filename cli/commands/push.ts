import { Command } from 'commander';
import { collect } from '../collect.js';
import { progressOption, type ProgressMode } from '../progress.js';

export interface PushFlags {
  tags?: string;
  insecureRegistry?: string[];
  json?: boolean;
  verbose?: boolean;
  progress?: ProgressMode;
}

export function pushCommand(): Command {
  return new Command('push')
    .description('push a multi-platform image from an OCI layout (as goci build writes it) to a registry')
    .argument('<source>', 'oci:DIR[:TAG]')
    .argument('<repository>', 'target, e.g. ghcr.io/acme/api (a :tag in it is pushed too)')
    .option('--tags <list>', 'comma-separated tags to push (default: the layout tag)')
    .option(
      '--insecure-registry <host>',
      'allow plain HTTP to this registry (loopback always may) (repeatable)',
      collect,
    )
    .option('-v, --verbose', 'log each registry request (never a credential)')
    .option('--json', 'print the result as JSON')
    .addOption(progressOption())
    .action(async (source: string, repository: string, flags: PushFlags) =>
      (await import('../actions/push.js')).push(source, repository, flags),
    );
}
