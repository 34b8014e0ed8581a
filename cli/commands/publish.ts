import { Command, Option } from 'commander';
import { NAMINGS, type Naming } from '../../pipeline/push-target.js';
import { addBuildOptions, type BuildFlags } from '../build-options.js';
import { addImageOptions, type ImageFlags } from '../image-options.js';

export interface PublishFlags extends BuildFlags, ImageFlags {
  repoPrefix?: string;
  naming?: Naming;
  bare?: boolean;
  preserveImportPaths?: boolean;
  baseImportPaths?: boolean;
}

/** `goci publish` (ko build): every image pushed to its own repository below a prefix. */
export function publishCommand(): Command {
  return addImageOptions(addBuildOptions(new Command('publish')), { push: false })
    .description(
      'build and push every image to <prefix>/<image name>, the prefix from GOCI_REPO or --repo-prefix; ' +
        'prints each pushed repository@digest',
    )
    .argument('[dirs...]', 'directories of Go main packages (or of a goci.yaml); default: the current directory')
    .option('--repo-prefix <prefix>', 'registry and path the images go below, e.g. ghcr.io/acme (default: $GOCI_REPO)')
    .addOption(
      new Option('--naming <how>', "how an image's repository is named below the prefix")
        .choices([...NAMINGS])
        .default('name'),
    )
    .option('-B, --base-import-paths', "name each image by its goci.yaml name, as ko's flag (the default)")
    .option('-P, --preserve-import-paths', "name each image by its main package's import path (--naming import-path)")
    .option('--bare', 'push every image to the prefix itself (--naming bare)')
    .action(async (dirs: string[], flags: PublishFlags) =>
      (await import('../actions/publish.js')).publish(dirs, flags),
    );
}
