import { Command } from 'commander';
import { collect } from '../collect.js';
import { addBuildOptions } from '../build-options.js';
import { addImageOptions } from '../image-options.js';
import { addPublishOptions, type PublishFlags } from '../publish-options.js';

export interface ResolveFlags extends PublishFlags {
  filename: string[];
  output?: string;
}

/** `goci resolve -f FILE` (ko resolve): YAML with each goci:// reference built, pushed and replaced by its digest. */
export function resolveCommand(): Command {
  return addPublishOptions(addImageOptions(addBuildOptions(new Command('resolve')), { push: false }))
    .description(
      'build and push every goci:// reference (an import path or ./dir of a main package) in Kubernetes ' +
        'or compose YAML, and print the YAML with each replaced by repository@sha256:…',
    )
    .requiredOption('-f, --filename <path>', 'a YAML file, a directory of them (recursive), or - for stdin', collect)
    .option('-o, --output <file>', 'write the resolved YAML here instead of stdout')
    .action(async (flags: ResolveFlags) => (await import('../actions/resolve.js')).resolve(flags));
}
