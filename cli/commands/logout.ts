import { Command } from 'commander';
import { eraseCredentials, registryHost } from '../../registry/credentials.js';
import type { CommandIo } from '../command-io.js';
import { formatRegistry, parseRegistryArgument } from '../registry-argument.js';

/** `goci logout REGISTRY`: forgets the saved credentials as `docker logout` does. */
export function logoutCommand(io: CommandIo = {}): Command {
  return new Command('logout')
    .description("remove a registry's saved credentials from Docker's config.json (or its credential helper)")
    .argument('<registry>', 'registry host[:port] (docker.io for Docker Hub)')
    .action(async (registryText: string) => {
      const stdout = io.stdout ?? process.stdout;
      const registry = registryHost(parseRegistryArgument(registryText));
      const removed = await eraseCredentials(registry, { env: io.env ?? process.env });
      stdout.write(
        removed
          ? `Removed the credentials for ${formatRegistry(registry)}\n`
          : `Not logged in to ${formatRegistry(registry)}\n`,
      );
    });
}
