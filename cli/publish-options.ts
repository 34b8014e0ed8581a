import { Option, type Command } from 'commander';
import { NAMINGS, type Naming } from '../pipeline/push-target.js';
import type { BuildFlags } from './build-options.js';
import type { ImageFlags } from './image-options.js';

/** The flags of the commands that push each image below a prefix: goci publish and goci resolve. */
export interface PublishFlags extends BuildFlags, ImageFlags {
  repoPrefix?: string;
  naming?: Naming;
  bare?: boolean;
  preserveImportPaths?: boolean;
  baseImportPaths?: boolean;
}

export function addPublishOptions(command: Command): Command {
  return command
    .option('--repo-prefix <prefix>', 'registry and path the images go below, e.g. ghcr.io/acme (default: $GOCI_REPO)')
    .addOption(
      new Option('--naming <how>', "how an image's repository is named below the prefix")
        .choices([...NAMINGS])
        .default('name'),
    )
    .option('-B, --base-import-paths', "name each image by its goci.yaml name, as ko's flag (the default)")
    .option('-P, --preserve-import-paths', "name each image by its main package's import path (--naming import-path)")
    .option('--bare', 'push every image to the prefix itself (--naming bare)');
}
