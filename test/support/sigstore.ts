import { createHash, createPublicKey } from 'node:crypto';
import { bundleFromJSON } from '@sigstore/bundle';
import { Verifier, toSignedEntity, toTrustMaterial } from '@sigstore/verify';

/** Sigstore's own name for a key: base64 SHA-256 of its DER SubjectPublicKeyInfo, computed here, not by goci. */
export function sigstoreKeyHint(publicKeyPem: string): string {
  return createHash('sha256')
    .update(createPublicKey(publicKeyPem).export({ type: 'spki', format: 'der' }))
    .digest('base64');
}

/**
 * Verifies a Sigstore bundle the way sigstore-js does, offline: the trust material holds only
 * the public key (under its hint) and no log, CA or timestamp authority, and the thresholds for
 * transparency-log entries, certificate-log entries and timestamps are zero. Throws what
 * sigstore-js throws; returns the in-toto statement the DSSE envelope carries, for the caller
 * to hold against the image (sigstore-js checks a DSSE signature, not what it is about).
 */
export function verifiedBundleStatement(bundleBytes: Buffer, publicKeyPem: string): Record<string, any> {
  const bundle = bundleFromJSON(JSON.parse(bundleBytes.toString('utf8')));
  const hint = sigstoreKeyHint(publicKeyPem);
  const noAuthorities = {
    mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
    tlogs: [],
    certificateAuthorities: [],
    ctlogs: [],
    timestampAuthorities: [],
  } as unknown as Parameters<typeof toTrustMaterial>[0];
  const trust = toTrustMaterial(noAuthorities, (wanted) => {
    if (wanted !== hint) throw new Error(`no key with the hint ${wanted}`);
    return { publicKey: createPublicKey(publicKeyPem), validFor: () => true };
  });
  const verifier = new Verifier(trust, { tlogThreshold: 0, ctlogThreshold: 0, timestampThreshold: 0 });
  verifier.verify(toSignedEntity(bundle));
  if (bundle.content.$case !== 'dsseEnvelope') throw new Error(`a ${bundle.content.$case} bundle, not a DSSE one`);
  return JSON.parse(Buffer.from(bundle.content.dsseEnvelope.payload).toString('utf8')) as Record<string, any>;
}
