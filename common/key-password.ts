import { GociError } from './errors.js';

/**
 * The password of an encrypted signing key, from where cosign takes it and nowhere else: the
 * COSIGN_PASSWORD variable when it is set (even empty), else all of standard input when that is
 * not a terminal (one trailing newline dropped). Never a flag: a flag shows in `ps` and in logs.
 */
export async function keyPassword(
  env: NodeJS.ProcessEnv = process.env,
  stdin: NodeJS.ReadStream = process.stdin,
): Promise<string> {
  if (env.COSIGN_PASSWORD !== undefined) return env.COSIGN_PASSWORD;
  if (stdin.isTTY)
    throw new GociError('BAD_ARGUMENT', 'the signing key is encrypted and no password was given', {
      hint: 'set COSIGN_PASSWORD, or pipe the password on standard input',
    });
  const chunks: Buffer[] = [];
  for await (const chunk of stdin) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}
