import { Command, Option } from 'commander';
import { GociError } from '../../common/errors.js';
import { RegistryClient } from '../../registry/client.js';
import { registryHost, storeCredentials } from '../../registry/credentials.js';
import type { CommandIo } from '../command-io.js';
import { formatRegistry, parseRegistryArgument } from '../registry-argument.js';
import { collect } from '../collect.js';
import { askCredentials } from '../credential-prompt.js';

interface LoginFlags {
  username?: string;
  passwordStdin?: boolean;
  password?: string;
  insecureRegistry?: string[];
  verbose?: boolean;
}

/**
 * `goci login REGISTRY [-u USER] [--password-stdin]`: checks the credentials against the
 * registry (a token request for token auth, GET /v2/ for Basic) and only then saves them where
 * `docker login` would. The password comes from stdin or a terminal prompt, never a flag.
 */
export function loginCommand(io: CommandIo = {}): Command {
  return new Command('login')
    .description(
      "check a user's credentials against a registry and save them in Docker's config.json (or its credential helper)",
    )
    .argument('<registry>', 'registry host[:port], e.g. ghcr.io or 127.0.0.1:5000 (docker.io for Docker Hub)')
    .option('-u, --username <user>', 'user name (asked for on a terminal when missing)')
    .option('--password-stdin', 'read the password or token from stdin')
    .addOption(new Option('-p, --password <password>').hideHelp())
    .option(
      '--insecure-registry <host>',
      'allow plain HTTP to this registry (loopback registries always may) (repeatable)',
      collect,
    )
    .option('-v, --verbose', 'print each HTTP request (never credentials)')
    .action(async (registryText: string, flags: LoginFlags) => {
      const streams: Required<CommandIo> = {
        stdin: io.stdin ?? process.stdin,
        stdout: io.stdout ?? process.stdout,
        stderr: io.stderr ?? process.stderr,
        env: io.env ?? process.env,
      };
      if (flags.password !== undefined) {
        throw new GociError(
          'BAD_ARGUMENT',
          'goci login takes no password on the command line (it would stay in shell history and process lists)',
          { hint: 'pipe it in with --password-stdin, or leave it out to be asked' },
        );
      }
      const registry = registryHost(parseRegistryArgument(registryText));
      const { username, password } = await askCredentials(flags, streams);

      const client = new RegistryClient({
        registry,
        insecureRegistries: flags.insecureRegistry ?? [],
        env: streams.env,
        credential: { username, secret: password, identityToken: false, source: 'goci login' },
        ...(flags.verbose ? { verbose: (line: string) => streams.stderr.write(`goci: ${line}\n`) } : {}),
      });
      await client.ping();
      const where = await storeCredentials(registry, username, password, { env: streams.env });
      const checked =
        client.authScheme === undefined ? ' (the registry did not ask for credentials, so they were not checked)' : '';
      streams.stdout.write(
        `Login Succeeded: ${username} at ${formatRegistry(registry)}, saved to ${where}${checked}\n`,
      );
    });
}
