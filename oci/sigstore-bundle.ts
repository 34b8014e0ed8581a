import { createHash, createPublicKey } from 'node:crypto';
import type { SigningKey } from '../common/signing-key.js';
import { artifactFor, type Artifact } from './artifact.js';
import { jsonBlob, type Descriptor, type JsonBlob } from './descriptor.js';
import { IN_TOTO_PAYLOAD_TYPE, IN_TOTO_STATEMENT_V1, preAuthenticationEncoding } from './dsse.js';

/** A Sigstore bundle, v0.3: the layer type and artifactType of its referrer, as cosign stores one. */
export const SIGSTORE_BUNDLE_MEDIA_TYPE = 'application/vnd.dev.sigstore.bundle.v0.3+json';
/** What cosign's bundle signature states about an image: it signed that digest, nothing more. */
export const COSIGN_SIGN_PREDICATE = 'https://sigstore.dev/cosign/sign/v1';

/**
 * Which key signed, as Sigstore names a key that is not a certificate: the base64 SHA-256 of
 * its DER SubjectPublicKeyInfo. A verifier holding several keys picks the one with this hint.
 */
export function publicKeyHint(publicKeyPem: string): string {
  const der = createPublicKey(publicKeyPem).export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(der).digest('base64');
}

/**
 * A signature of one manifest as a Sigstore bundle: a DSSE envelope over an in-toto statement
 * whose subject is the manifest digest (no name: a bundle signs the content wherever it is
 * pushed), signed by the key. Key-based and offline: no certificate and no transparency-log
 * entry, which keyless signing (Fulcio, Rekor) would add to the same shape.
 */
export function signatureBundle(manifestDigest: string, key: SigningKey): JsonBlob {
  const statement = jsonBlob({
    _type: IN_TOTO_STATEMENT_V1,
    subject: [{ digest: { sha256: manifestDigest.replace(/^sha256:/, '') } }],
    predicateType: COSIGN_SIGN_PREDICATE,
    predicate: {},
  });
  const signature = key.sign(preAuthenticationEncoding(IN_TOTO_PAYLOAD_TYPE, statement.bytes));
  return jsonBlob({
    mediaType: SIGSTORE_BUNDLE_MEDIA_TYPE,
    verificationMaterial: { publicKey: { hint: publicKeyHint(key.publicKeyPem) } },
    dsseEnvelope: {
      payload: statement.bytes.toString('base64'),
      payloadType: IN_TOTO_PAYLOAD_TYPE,
      signatures: [{ sig: signature }],
    },
  });
}

/** The bundle as an OCI 1.1 referrer of the manifest it signs, annotated as cosign annotates its own. */
export function signatureBundleArtifact(subject: Descriptor, key: SigningKey, created: string): Artifact {
  return artifactFor(subject, SIGSTORE_BUNDLE_MEDIA_TYPE, signatureBundle(subject.digest, key), {
    'org.opencontainers.image.created': created,
    'dev.sigstore.bundle.content': 'dsse-envelope',
    'dev.sigstore.bundle.predicateType': COSIGN_SIGN_PREDICATE,
  });
}
