import { createInterface } from 'node:readline/promises';
import { Command, Option } from 'commander';
import { GociError } from '../../common/errors.js';
import { RegistryClient } from '../../registry/client.js';
import { registryHost, storeCredentials } from '../../registry/credentials.js';
import { formatRegistry, parseRegistryArgument, type CommandIo } from './logout.js';
import { collect } from '../collect.js';

interface LoginFlags {
  username?: string;
  passwordStdin?: boolean;
  password?: string;
  insecureRegistry?: string[];
  verbose?: boolean;
}

/** All of stdin, without the one line ending `echo` or a file adds. */
async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of stream) {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    total += buffer.length;
    if (total > 1024 * 1024) throw new GociError('BAD_ARGUMENT', 'the password on stdin is longer than 1 MiB');
    chunks.push(buffer);
  }
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

async function promptVisible(question: string, io: Required<CommandIo>): Promise<string> {
  const reader = createInterface({ input: io.stdin, output: io.stderr, terminal: true });
  try {
    return (await reader.question(question)).trim();
  } finally {
    reader.close();
  }
}

/** Reads a line from the terminal without echoing it. */
async function promptHidden(question: string, io: Required<CommandIo>): Promise<string> {
  const input = io.stdin as NodeJS.ReadStream;
  io.stderr.write(question);
  input.setRawMode(true);
  input.setEncoding('utf8');
  input.resume();
  return new Promise((resolve, reject) => {
    let value = '';
    const cleanup = (): void => {
      input.removeListener('data', onData);
      input.setRawMode(false);
      input.pause();
      io.stderr.write('\n');
    };
    const onData = (chunk: string): void => {
      for (const char of chunk) {
        if (char === '\r' || char === '\n' || char === '\u0004') {
          cleanup();
          resolve(value);
          return;
        }
        if (char === '\u0003') {
          cleanup();
          reject(new GociError('BAD_ARGUMENT', 'login cancelled'));
          return;
        }
        if (char === '\u007f' || char === '\b') value = value.slice(0, -1);
        else value += char;
      }
    };
    input.on('data', onData);
  });
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
      const terminal = (streams.stdin as { isTTY?: boolean }).isTTY === true && !flags.passwordStdin;
      let username = flags.username?.trim();
      if (!username) {
        if (!terminal)
          throw new GociError(
            'BAD_ARGUMENT',
            flags.passwordStdin
              ? 'goci login --password-stdin needs -u USER'
              : 'goci login needs -u USER when stdin is not a terminal',
          );
        username = await promptVisible('Username: ', streams);
        if (!username) throw new GociError('BAD_ARGUMENT', 'no user name given');
      }
      let password: string;
      if (flags.passwordStdin) password = await readAll(streams.stdin);
      else if (terminal) password = await promptHidden('Password: ', streams);
      else
        throw new GociError(
          'BAD_ARGUMENT',
          'goci login needs the password on stdin (--password-stdin) or a terminal to ask on',
        );
      if (password === '') throw new GociError('BAD_ARGUMENT', 'the password is empty');

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
