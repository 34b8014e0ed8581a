import { GociError } from './errors.js';

let held: string | undefined;

/**
 * Takes COSIGN_PASSWORD out of the environment, into goci alone, before anything runs: go, git
 * and credential helpers inherit goci's environment, and none of them needs a signing password.
 */
export function holdKeyPassword(env: NodeJS.ProcessEnv = process.env): void {
  if (env.COSIGN_PASSWORD === undefined) return;
  held = env.COSIGN_PASSWORD;
  delete env.COSIGN_PASSWORD;
}

/**
 * The password of an encrypted signing key, from where cosign takes it and nowhere else: the
 * COSIGN_PASSWORD variable when it is set (even empty), else all of standard input, byte for
 * byte as cosign reads it, when that is not a terminal. Never a flag: a flag shows in `ps`.
 */
export async function keyPassword(
  env: NodeJS.ProcessEnv = process.env,
  stdin: NodeJS.ReadStream = process.stdin,
): Promise<string> {
  const given = held ?? env.COSIGN_PASSWORD;
  if (given !== undefined) return given;
  if (stdin.isTTY)
    throw new GociError('BAD_ARGUMENT', 'the signing key is encrypted and no password was given', {
      hint: 'set COSIGN_PASSWORD, or pipe the password on standard input',
    });
  const chunks: Buffer[] = [];
  for await (const chunk of stdin) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}
