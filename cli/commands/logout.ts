import { Command } from 'commander';
import { GociError } from '../../common/errors.js';
import { eraseCredentials, registryHost } from '../../registry/credentials.js';
import { DOCKER_HUB_REGISTRY } from '../../registry/reference.js';

/** Streams and environment of a command, replaceable in tests. */
export interface CommandIo {
  stdin?: NodeJS.ReadableStream;
  stdout?: NodeJS.WritableStream;
  stderr?: NodeJS.WritableStream;
  env?: NodeJS.ProcessEnv;
}

const HOST =
  /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*|\[[0-9A-Fa-f:]+\])(?::\d{1,5})?$/;

/** A registry as typed: `host[:port]`, or a URL such as `https://index.docker.io/v1/`. */
export function parseRegistryArgument(text: string): string {
  const host = text
    .trim()
    .replace(/^[a-z][a-z0-9+.-]*:\/\//i, '')
    .replace(/\/.*$/, '');
  if (!HOST.test(host)) {
    throw new GociError('BAD_ARGUMENT', `"${text}" is not a registry host`, {
      hint: 'give host[:port], e.g. ghcr.io or 127.0.0.1:5000',
    });
  }
  return host;
}

export function formatRegistry(registry: string): string {
  return registry === DOCKER_HUB_REGISTRY ? 'docker.io' : registry;
}

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
