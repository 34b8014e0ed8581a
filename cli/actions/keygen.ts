import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { writeFileAtomic } from '../../common/atomic.js';
import { displayPath } from '../../common/display-path.js';
import { GociError } from '../../common/errors.js';
import { keyPassword } from '../../common/key-password.js';
import { generateSigningKey } from '../../common/signing-key.js';
import type { KeygenFlags } from '../commands/keygen.js';

/** `goci keygen`: a new key pair; the private key readable by its owner only, never printed. */
export async function keygen(flags: KeygenFlags): Promise<void> {
  const privatePath = resolve(`${flags.output}.key`);
  const publicPath = resolve(`${flags.output}.pub`);
  for (const path of [privatePath, publicPath])
    if (!flags.force && (await stat(path).catch(() => undefined)))
      throw new GociError('BAD_ARGUMENT', `${displayPath(path)} exists already`, {
        hint: 'choose another --output prefix, or give --force to replace it',
      });
  const { privateKeyPem, publicKeyPem } = generateSigningKey(flags.encrypted ? await keyPassword() : undefined);
  await writeFileAtomic(privatePath, privateKeyPem, 0o600);
  await writeFileAtomic(publicPath, publicKeyPem);
  const sealed = flags.encrypted ? 'private, encrypted, 0600' : 'private, 0600';
  process.stdout.write(`wrote ${displayPath(privatePath)} (${sealed}) and ${displayPath(publicPath)}\n`);
}
