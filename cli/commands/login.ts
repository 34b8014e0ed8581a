import { Command, Option } from 'commander';
import type { CommandIo } from '../command-io.js';
import { collect } from '../collect.js';

export interface LoginFlags {
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
    .action(async (registryText: string, flags: LoginFlags) =>
      (await import('../actions/login.js')).login(registryText, flags, io),
    );
}
