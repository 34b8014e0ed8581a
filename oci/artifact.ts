import { jsonBlob, type Descriptor, type JsonBlob } from './descriptor.js';
import { MEDIA_TYPES } from './media-types.js';

/** The OCI 1.1 empty config (`{}`), used by artifacts that have no config of their own. */
export const EMPTY_CONFIG: Descriptor & { data: string } = {
  mediaType: 'application/vnd.oci.empty.v1+json',
  digest: 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a',
  size: 2,
  data: 'e30=',
};
export const EMPTY_CONFIG_BYTES = Buffer.from('{}');

/** An artifact that refers to an image: its one payload blob and the manifest that names its subject. */
export interface Artifact {
  artifactType: string;
  payload: JsonBlob;
  manifest: JsonBlob;
  descriptor: Descriptor;
}

/**
 * An OCI 1.1 artifact manifest (ORAS model): `artifactType`, the empty config, one layer with
 * the payload, and `subject` pointing at the image it describes, so registries with a referrers
 * API list it under that image.
 */
export function artifactFor(
  subject: Descriptor,
  artifactType: string,
  payload: JsonBlob,
  annotations: Record<string, string>,
): Artifact {
  const manifest = jsonBlob({
    schemaVersion: 2,
    mediaType: MEDIA_TYPES.oci.manifest,
    artifactType,
    config: {
      mediaType: EMPTY_CONFIG.mediaType,
      digest: EMPTY_CONFIG.digest,
      size: EMPTY_CONFIG.size,
      data: EMPTY_CONFIG.data,
    },
    layers: [{ mediaType: artifactType, digest: payload.digest, size: payload.size }],
    subject: { mediaType: subject.mediaType, digest: subject.digest, size: subject.size },
    annotations,
  });
  return {
    artifactType,
    payload,
    manifest,
    descriptor: {
      mediaType: MEDIA_TYPES.oci.manifest,
      digest: manifest.digest,
      size: manifest.size,
      artifactType,
      annotations,
    },
  };
}

/** Whether a tag is a referrers fallback tag (`sha256-<hex>`): it lists an image's artifacts, not an image. */
export function isReferrersTag(tag: string | undefined): boolean {
  return tag !== undefined && /^sha256-[0-9a-f]{64}$/.test(tag);
}

/** The tag the referrers fallback uses for a subject: `sha256-<hex>`. */
export function referrersTag(subjectDigest: string): string {
  return subjectDigest.replace(':', '-');
}

/** The fallback tag's index: every referrer of a subject, newest added last, no duplicates. */
export function referrersIndex(existing: Descriptor[], added: Descriptor): JsonBlob {
  const manifests = [...existing.filter((entry) => entry.digest !== added.digest), added];
  return jsonBlob({ schemaVersion: 2, mediaType: MEDIA_TYPES.oci.index, manifests });
}
