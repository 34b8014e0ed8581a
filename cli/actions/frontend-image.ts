import { buildFrontendImage } from '../../pipeline/frontend-image.js';
import type { FrontendImageFlags } from '../commands/frontend-image.js';
import { describeHostImage, registryClientsFor } from '../registry-options.js';

/** `goci frontend-image`: build the frontend image to the outputs asked for and say where it went. */
export async function frontendImage(flags: FrontendImageFlags): Promise<void> {
  const clients = registryClientsFor(flags);
  const result = await buildFrontendImage(flags, clients);
  process.stdout.write(
    flags.json
      ? `${JSON.stringify(result, null, 2)}\n`
      : describeHostImage(
          'frontend image',
          `base ${result.base}  entrypoint ${JSON.stringify(result.entrypoint)}`,
          result,
        ),
  );
}
