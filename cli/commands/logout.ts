import { Command } from 'commander';
import type { CommandIo } from '../command-io.js';

/** `goci logout REGISTRY`: forgets the saved credentials as `docker logout` does. */
export function logoutCommand(io: CommandIo = {}): Command {
  return new Command('logout')
    .description("remove a registry's saved credentials from Docker's config.json (or its credential helper)")
    .argument('<registry>', 'registry host[:port] (docker.io for Docker Hub)')
    .action(async (registryText: string) => (await import('../actions/logout.js')).logout(registryText, io));
}
