import { describeBlob, jsonBlob, type Descriptor, type JsonBlob } from './descriptor.js';
import { MEDIA_TYPES } from './media-types.js';

/** The layer type cosign stores a signed payload under. */
export const SIMPLE_SIGNING_MEDIA_TYPE = 'application/vnd.dev.cosign.simplesigning.v1+json';
/** The annotation holding the base64 ECDSA signature of the layer's bytes. */
export const COSIGN_SIGNATURE_ANNOTATION = 'dev.cosignproject.cosign/signature';

/**
 * The simple-signing payload cosign signs for an image: which repository it was pushed to and
 * which manifest digest it is. Written with sorted keys, as cosign writes it.
 */
export function simpleSigningPayload(dockerReference: string, manifestDigest: string): JsonBlob {
  return jsonBlob({
    critical: {
      identity: { 'docker-reference': dockerReference },
      image: { 'docker-manifest-digest': manifestDigest },
      type: 'cosign container image signature',
    },
    optional: null,
  });
}

/** Where cosign keeps the signatures of a manifest: the tag `sha256-<hex>.sig` in its repository. */
export function signatureTag(manifestDigest: string): string {
  return `${manifestDigest.replace(':', '-')}.sig`;
}

/** One signature as cosign stores it: the payload as a layer, the signature as its annotation. */
export function signatureLayer(payload: JsonBlob, signature: string): Descriptor {
  return describeBlob(SIMPLE_SIGNING_MEDIA_TYPE, payload, {
    annotations: { [COSIGN_SIGNATURE_ANNOTATION]: signature },
  });
}

/**
 * The `.sig` image of `layers` (the signatures already there, then the new one). Its config names
 * the layers' digests as diff_ids, as cosign's does.
 */
export function signatureManifest(layers: Descriptor[]): { manifest: JsonBlob; config: JsonBlob } {
  const config = jsonBlob({
    architecture: '',
    os: '',
    config: {},
    rootfs: { type: 'layers', diff_ids: layers.map((item) => item.digest) },
  });
  const manifest = jsonBlob({
    schemaVersion: 2,
    mediaType: MEDIA_TYPES.oci.manifest,
    config: describeBlob(MEDIA_TYPES.oci.config, config),
    layers,
  });
  return { manifest, config };
}
