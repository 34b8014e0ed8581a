import { randomBytes, scryptSync } from 'node:crypto';
import { secretbox } from '@noble/ciphers/salsa.js';
import { GociError } from './errors.js';

/** The PEM types of cosign's password-protected private keys: what it writes now, and what it wrote before. */
export const ENCRYPTED_KEY_TYPES = ['ENCRYPTED SIGSTORE PRIVATE KEY', 'ENCRYPTED COSIGN PRIVATE KEY'] as const;

/** The scrypt costs cosign accepts on reading (legacy, standard, OWASP); it writes the standard one. */
const SCRYPT_COSTS = [32768, 65536, 131072];
const WRITTEN_COST = 65536;

interface EncryptedKeyDocument {
  kdf: { name: string; params: { N: number; r: number; p: number }; salt: string };
  cipher: { name: string; nonce: string };
  ciphertext: string;
}

/** The PEM type of `pem` when it is one of cosign's encrypted keys. */
export function encryptedKeyType(pem: string): string | undefined {
  return ENCRYPTED_KEY_TYPES.find((type) => pem.includes(`-----BEGIN ${type}-----`));
}

function derivedKey(password: string, salt: Buffer, cost: number): Buffer {
  // scrypt needs 128 · N · r bytes; Node's default ceiling (32 MiB) is below cosign's standard cost.
  return scryptSync(Buffer.from(password, 'utf8'), salt, 32, { N: cost, r: 8, p: 1, maxmem: 256 * 1024 * 1024 });
}

/**
 * Opens a key in cosign's encrypted format: PEM around JSON naming scrypt (its salt and cost)
 * and NaCl's secretbox (XSalsa20-Poly1305, its nonce), around the PKCS#8 DER of the key.
 * `where` names the file in messages; neither the password nor any byte of the key reaches one.
 */
export function decryptPrivateKey(pem: string, password: string, where: string): Buffer {
  const type = encryptedKeyType(pem);
  const body = type && new RegExp(`-----BEGIN ${type}-----([^-]*)-----END ${type}-----`).exec(pem)?.[1];
  const document = parseDocument(body, where);
  const { N, r, p } = document.kdf.params;
  if (document.kdf.name !== 'scrypt' || !SCRYPT_COSTS.includes(N) || r !== 8 || p !== 1)
    throw new GociError(
      'BAD_ARGUMENT',
      `${where}: its key derivation (${document.kdf.name} N=${N}) is not one cosign writes`,
      {
        hint: 'make the key with cosign generate-key-pair or goci keygen --encrypted',
      },
    );
  if (document.cipher.name !== 'nacl/secretbox')
    throw new GociError('BAD_ARGUMENT', `${where}: its cipher (${document.cipher.name}) is not nacl/secretbox`, {
      hint: 'make the key with cosign generate-key-pair or goci keygen --encrypted',
    });
  // cosign takes piped input byte for byte, so `echo pw |` seals or opens with "pw\n": either way, the
  // same word typed into COSIGN_PASSWORD or piped should open the key.
  const trimmed = password.replace(/\r?\n$/, '');
  const candidates = [password, trimmed, `${trimmed}\n`].filter((item, at, all) => all.indexOf(item) === at);
  for (const candidate of candidates) {
    const key = derivedKey(candidate, Buffer.from(document.kdf.salt, 'base64'), N);
    try {
      const nonce = Buffer.from(document.cipher.nonce, 'base64');
      return Buffer.from(secretbox(key, nonce).open(Buffer.from(document.ciphertext, 'base64')));
    } catch {
      // Not this password: the next candidate, or the error below.
    }
  }
  throw new GociError('BAD_ARGUMENT', `${where}: the password does not open this key`, {
    hint: 'give the password the key was made with, in COSIGN_PASSWORD or on standard input',
  });
}

function parseDocument(body: string | undefined, where: string): EncryptedKeyDocument {
  try {
    const document = JSON.parse(Buffer.from(body ?? '', 'base64').toString('utf8')) as EncryptedKeyDocument;
    if (
      typeof document.kdf?.salt === 'string' &&
      typeof document.cipher?.nonce === 'string' &&
      typeof document.ciphertext === 'string' &&
      Buffer.from(document.kdf.salt, 'base64').length === 32 &&
      Buffer.from(document.cipher.nonce, 'base64').length === 24
    )
      return document;
  } catch {
    // Reported below, as any other damage.
  }
  throw new GociError('BAD_ARGUMENT', `${where}: an encrypted key whose contents are damaged`, {
    hint: 'make the key again with cosign generate-key-pair or goci keygen --encrypted',
  });
}

/** Seals PKCS#8 DER in cosign's format, with a fresh salt and nonce, as `cosign generate-key-pair` does. */
export function encryptPrivateKey(pkcs8: Buffer, password: string): string {
  const salt = randomBytes(32);
  const nonce = randomBytes(24);
  const ciphertext = secretbox(derivedKey(password, salt, WRITTEN_COST), nonce).seal(pkcs8);
  const document: EncryptedKeyDocument = {
    kdf: { name: 'scrypt', params: { N: WRITTEN_COST, r: 8, p: 1 }, salt: salt.toString('base64') },
    cipher: { name: 'nacl/secretbox', nonce: nonce.toString('base64') },
    ciphertext: Buffer.from(ciphertext).toString('base64'),
  };
  const body = Buffer.from(JSON.stringify(document)).toString('base64').replace(/.{64}/g, '$&\n');
  const type = ENCRYPTED_KEY_TYPES[0];
  return `-----BEGIN ${type}-----\n${body.replace(/\n$/, '')}\n-----END ${type}-----\n`;
}
