import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { decryptPrivateKey, encryptPrivateKey, encryptedKeyType } from './encrypted-key.js';
import { GociError } from './errors.js';
import { keyPassword } from './key-password.js';

/** An ECDSA P-256 key that signs as cosign does: SHA-256, ASN.1 DER signatures. */
export interface SigningKey {
  /** Signs `bytes`; the signature base64, as cosign stores it. ECDSA signs anew each time: no two are alike. */
  sign(bytes: Uint8Array): string;
  /** Whether `signature` (base64) over `bytes` is this key's. */
  signed(bytes: Uint8Array, signature: string): boolean;
  /** The public key, PEM (SubjectPublicKeyInfo), for openssl, cosign verify and goci verify. */
  publicKeyPem: string;
}

const KEY_HINT =
  'give a PEM EC P-256 private key (goci keygen, cosign generate-key-pair, ' +
  'or openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256)';

function signingKey(key: KeyObject): SigningKey {
  const publicKey = createPublicKey(key);
  return {
    sign: (bytes) => sign('sha256', bytes, { key, dsaEncoding: 'der' }).toString('base64'),
    signed: (bytes, signature) => {
      try {
        return verify('sha256', bytes, { key: publicKey, dsaEncoding: 'der' }, Buffer.from(signature, 'base64'));
      } catch {
        // Not a DER signature at all: not this key's.
        return false;
      }
    },
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

/**
 * Reads a private key file: a PEM EC P-256 key, plain (PKCS#8 or SEC 1, as openssl writes them)
 * or in cosign's encrypted format, whose password `password` supplies. Its bytes never reach a
 * message, so a wrong file says what it is not, never what it holds.
 */
export async function readSigningKey(
  path: string,
  option = '--key',
  password: () => Promise<string> = keyPassword,
): Promise<SigningKey> {
  const pem = await readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => {
    throw new GociError('NOT_FOUND', `${option} ${path}: cannot read it (${error.code ?? 'error'})`, {
      hint: KEY_HINT,
    });
  });
  let key: KeyObject;
  try {
    key = encryptedKeyType(pem)
      ? createPrivateKey({
          key: decryptPrivateKey(pem, await password(), `${option} ${path}`),
          format: 'der',
          type: 'pkcs8',
        })
      : createPrivateKey({ key: pem, format: 'pem' });
  } catch (error) {
    if (error instanceof GociError) throw error;
    const encrypted = pem.includes('-----BEGIN ENCRYPTED PRIVATE KEY-----') ? ' (an openssl-encrypted one)' : '';
    throw new GociError('BAD_ARGUMENT', `${option} ${path}: not a private key goci can read${encrypted}`, {
      hint: KEY_HINT,
    });
  }
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1')
    throw new GociError(
      'BAD_ARGUMENT',
      `${option} ${path}: not an EC P-256 key (${key.asymmetricKeyType ?? 'unknown'})`,
      {
        hint: KEY_HINT,
      },
    );
  return signingKey(key);
}

/**
 * A new P-256 key pair: the private key as PEM PKCS#8, or sealed in cosign's encrypted format
 * when a password is given; the public key as PEM SPKI.
 */
export function generateSigningKey(password?: string): { privateKeyPem: string; publicKeyPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  return {
    privateKeyPem:
      password === undefined
        ? privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()
        : encryptPrivateKey(privateKey.export({ type: 'pkcs8', format: 'der' }), password),
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

/** A key that checks signatures: a PEM public key (or the private key, whose public half is used). */
export interface VerificationKey {
  /** Whether `signature` (base64, ASN.1 DER) over `bytes` is this key's. */
  signed(bytes: Uint8Array, signature: string): boolean;
}

export async function readVerificationKey(path: string, option = '--key'): Promise<VerificationKey> {
  const pem = await readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => {
    throw new GociError('NOT_FOUND', `${option} ${path}: cannot read it (${error.code ?? 'error'})`, {
      hint: 'give the PEM public key (goci keygen writes PREFIX.pub; openssl pkey -pubout makes one)',
    });
  });
  let key: KeyObject;
  try {
    key = createPublicKey({ key: pem, format: 'pem' });
  } catch {
    throw new GociError('BAD_ARGUMENT', `${option} ${path}: not a PEM public key goci can read`, {
      hint: 'give the PEM public key (goci keygen writes PREFIX.pub; openssl pkey -pubout makes one)',
    });
  }
  return {
    signed: (bytes, signature) => {
      try {
        return verify('sha256', bytes, { key, dsaEncoding: 'der' }, Buffer.from(signature, 'base64'));
      } catch {
        return false;
      }
    },
  };
}
