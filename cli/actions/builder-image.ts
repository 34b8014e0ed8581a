import { buildBuilderImage } from '../../pipeline/builder-image.js';
import type { BuilderImageFlags } from '../commands/builder-image.js';
import { describeHostImage, registryClientsFor } from '../registry-options.js';

/** `goci builder-image`: the Go image of this machine's toolchain, to the outputs asked for. */
export async function builderImage(flags: BuilderImageFlags): Promise<void> {
  const clients = registryClientsFor(flags);
  const result = await buildBuilderImage(flags, clients);
  process.stdout.write(
    flags.json
      ? `${JSON.stringify(result, null, 2)}\n`
      : describeHostImage('go builder image', result.goVersion, result),
  );
}
