import { createHash } from 'node:crypto';

/** An OCI content descriptor: how a manifest or index points at a blob. */
export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: OciPlatform;
  /** Set on an artifact's descriptor in a referrers list. */
  artifactType?: string;
  annotations?: Record<string, string>;
}

/** The platform object of an index entry and of an image config (`architecture`, not `arch`). */
export interface OciPlatform {
  architecture: string;
  os: string;
  variant?: string;
}

/** A JSON document as the exact bytes that are hashed, stored and pushed. */
export interface JsonBlob {
  bytes: Buffer;
  digest: string;
  size: number;
}

export function sha256Digest(bytes: Uint8Array): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

/**
 * Serialises with object keys sorted at every level, so a document's digest depends only
 * on its content, never on the order the code happened to build it in.
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, item: unknown) => {
    if (item === null || typeof item !== 'object' || Array.isArray(item)) return item;
    const record = item as Record<string, unknown>;
    return Object.fromEntries(
      Object.keys(record)
        .sort()
        .map((key) => [key, record[key]]),
    );
  });
}

/** Whether `value` is a sha256 digest as OCI writes one (`sha256:` and 64 lower-case hex digits). */
export function isSha256Digest(value: unknown): value is string {
  return typeof value === 'string' && /^sha256:[0-9a-f]{64}$/.test(value);
}

export function jsonBlob(value: unknown): JsonBlob {
  const bytes = Buffer.from(canonicalJson(value), 'utf8');
  return { bytes, digest: sha256Digest(bytes), size: bytes.length };
}

export function describeBlob(
  mediaType: string,
  blob: JsonBlob,
  extra: Pick<Descriptor, 'platform' | 'annotations'> = {},
): Descriptor {
  return { mediaType, digest: blob.digest, size: blob.size, ...extra };
}
