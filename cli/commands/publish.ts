import { Command } from 'commander';
import { addBuildOptions } from '../build-options.js';
import { addImageOptions } from '../image-options.js';
import { addPublishOptions, type PublishFlags } from '../publish-options.js';

/** `goci publish` (ko build): every image pushed to its own repository below a prefix. */
export function publishCommand(): Command {
  return addPublishOptions(addImageOptions(addBuildOptions(new Command('publish')), { push: false }))
    .description(
      'build and push every image to <prefix>/<image name>, the prefix from GOCI_REPO or --repo-prefix; ' +
        'prints each pushed repository@digest',
    )
    .argument('[dirs...]', 'directories of Go main packages (or of a goci.yaml); default: the current directory')
    .action(async (dirs: string[], flags: PublishFlags) =>
      (await import('../actions/publish.js')).publish(dirs, flags),
    );
}
