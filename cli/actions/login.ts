import { GociError } from '../../common/errors.js';
import { RegistryClient } from '../../registry/client.js';
import { registryHost, storeCredentials } from '../../registry/credentials.js';
import type { CommandIo } from '../command-io.js';
import type { LoginFlags } from '../commands/login.js';
import { askCredentials } from '../credential-prompt.js';
import { formatRegistry, parseRegistryArgument } from '../registry-argument.js';

/** `goci login`: the credentials checked against the registry, then saved. */
export async function login(registryText: string, flags: LoginFlags, io: CommandIo): Promise<void> {
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
  streams.stdout.write(`Login Succeeded: ${username} at ${formatRegistry(registry)}, saved to ${where}${checked}\n`);
}
