import { eraseCredentials, registryHost } from '../../registry/credentials.js';
import type { CommandIo } from '../command-io.js';
import { formatRegistry, parseRegistryArgument } from '../registry-argument.js';

/** `goci logout`: the saved credentials removed. */
export async function logout(registryText: string, io: CommandIo): Promise<void> {
  const stdout = io.stdout ?? process.stdout;
  const registry = registryHost(parseRegistryArgument(registryText));
  const removed = await eraseCredentials(registry, { env: io.env ?? process.env });
  stdout.write(
    removed
      ? `Removed the credentials for ${formatRegistry(registry)}\n`
      : `Not logged in to ${formatRegistry(registry)}\n`,
  );
}
