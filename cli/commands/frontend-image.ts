import { Command } from 'commander';
import {
  DEFAULT_FRONTEND_LAYOUT,
  DEFAULT_FRONTEND_REPOSITORY,
  type FrontendImageSettings,
} from '../../pipeline/frontend-image-settings.js';
import { addHostImageOutputOptions, addRegistryOptions, type RegistryFlags } from '../registry-options.js';

export interface FrontendImageFlags extends FrontendImageSettings, RegistryFlags {}

export function frontendImageCommand(): Command {
  const command = new Command('frontend-image')
    .description(
      "build goci's BuildKit frontend image (the bundled CLI run by node) without Docker; Dockerfile.frontend is the Docker way",
    )
    .option(
      '--base <host|REF>',
      "host: this machine's node and its libraries; or a registry image with node on its PATH",
      'host',
    )
    .option('--bundle <file>', 'the bundled CLI to put in (default: lib/goci.cjs of this goci)');
  const defaults = { layout: DEFAULT_FRONTEND_LAYOUT, repository: DEFAULT_FRONTEND_REPOSITORY, tags: 'latest' };
  return addRegistryOptions(addHostImageOutputOptions(command, defaults)).action(async (flags: FrontendImageFlags) =>
    (await import('../actions/frontend-image.js')).frontendImage(flags),
  );
}
