import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { GociError } from './errors.js';

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
  'give a PEM PKCS#8 EC P-256 private key (goci keygen, or openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256)';

function signingKey(key: KeyObject): SigningKey {
  return {
    sign: (bytes) => sign('sha256', bytes, { key, dsaEncoding: 'der' }).toString('base64'),
    signed: (bytes, signature) =>
      verify('sha256', bytes, { key: createPublicKey(key), dsaEncoding: 'der' }, Buffer.from(signature, 'base64')),
    publicKeyPem: createPublicKey(key).export({ type: 'spki', format: 'pem' }).toString(),
  };
}

/**
 * Reads a private key file. Only an unencrypted PEM EC P-256 key is taken; its bytes never reach
 * a message, so a wrong file says what it is not, never what it holds.
 */
export async function readSigningKey(path: string, option = '--key'): Promise<SigningKey> {
  const pem = await readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => {
    throw new GociError('NOT_FOUND', `${option} ${path}: cannot read it (${error.code ?? 'error'})`, {
      hint: KEY_HINT,
    });
  });
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: pem, format: 'pem' });
  } catch {
    throw new GociError('BAD_ARGUMENT', `${option} ${path}: not a PEM private key goci can read (or it is encrypted)`, {
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

/** A new P-256 key pair: the private key as PEM PKCS#8, the public key as PEM SPKI. */
export function generateSigningKey(): { privateKeyPem: string; publicKeyPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  return {
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
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
