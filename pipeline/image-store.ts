import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { displayPath } from '../common/display-path.js';
import { GociError } from '../common/errors.js';
import { isReferrersTag, referrersTag } from '../oci/artifact.js';
import { isSha256Digest, sha256Digest, type Descriptor } from '../oci/descriptor.js';
import { REF_NAME, blobPath } from '../oci/layout.js';
import type { RegistryClient } from '../registry/client.js';
import { isRegistryFailure } from '../registry/http.js';

/** A manifest as read from where an image is stored: its bytes, type and digest. */
export interface StoredManifest {
  bytes: Buffer;
  mediaType: string;
  digest: string;
}

/**
 * Where goci verify reads an image, its signatures and its referrers: a registry repository or
 * an OCI layout. Every document read is checked against its digest.
 */
export interface ImageStore {
  /** The manifest a tag or digest names; a NOT_FOUND error (the store's own) when there is none. */
  manifest(reference: string, accept: readonly string[]): Promise<StoredManifest>;
  /** The manifest a tag or digest names; undefined when there is none. */
  findManifest(reference: string, accept: readonly string[]): Promise<StoredManifest | undefined>;
  /** The referrers of a manifest (the referrers API, or the `sha256-<hex>` fallback index). */
  referrers(digest: string): Promise<Descriptor[]>;
  /** A small blob (a document, not a layer), at most `maxBytes`. */
  blob(digest: string, maxBytes: number): Promise<Buffer>;
}

/** A registry repository as an image store. */
export function registryStore(client: RegistryClient, repository: string): ImageStore {
  return {
    manifest: (reference, accept) => client.getManifest(repository, reference, accept),
    findManifest: (reference, accept) =>
      client.getManifest(repository, reference, accept).catch((error: unknown) => {
        if (isRegistryFailure(error, 'not-found')) return undefined;
        throw error;
      }),
    referrers: (digest) => client.referrers(repository, digest),
    blob: (digest, maxBytes) => client.fetchBlobBytes(repository, digest, maxBytes),
  };
}

/** An OCI layout as an image store: tags from index.json, referrers from its `sha256-<hex>` indexes. */
export function layoutImageStore(dir: string): ImageStore & { onlyTag(): Promise<string> } {
  const where = displayPath(dir);
  const blob = async (digest: string, maxBytes: number): Promise<Buffer> => {
    if (!isSha256Digest(digest)) throw new GociError('BAD_ARGUMENT', `${where}: ${digest} is not a sha256 digest`);
    const bytes = await readFile(blobPath(dir, digest)).catch(() => {
      throw new GociError('NOT_FOUND', `${where}: has no blob ${digest}`, {
        hint: 'the layout is incomplete: write it again with goci build',
      });
    });
    if (bytes.length > maxBytes || sha256Digest(bytes) !== digest)
      throw new GociError('DIGEST_MISMATCH', `${where}: blob ${digest} does not hold what its digest names`, {
        hint: 'the layout is damaged: write it again with goci build',
      });
    return bytes;
  };
  const entries = async (): Promise<Descriptor[]> => {
    const text = await readFile(join(dir, 'index.json'), 'utf8').catch(() => {
      throw new GociError('NOT_FOUND', `${where}: not an OCI layout (no index.json)`, {
        hint: 'give the directory goci build wrote (dist/oci, or --oci-layout)',
      });
    });
    const manifests = (JSON.parse(text) as { manifests?: unknown }).manifests;
    return Array.isArray(manifests) ? (manifests as Descriptor[]) : [];
  };
  const tagged = async (tag: string): Promise<Descriptor | undefined> =>
    (await entries()).find((entry) => entry.annotations?.[REF_NAME] === tag);
  const findManifest = async (reference: string): Promise<StoredManifest | undefined> => {
    const entry = reference.startsWith('sha256:') ? undefined : await tagged(reference);
    const digest = reference.startsWith('sha256:') ? reference : entry?.digest;
    if (digest === undefined) return undefined;
    const bytes = await blob(digest, 4 << 20).catch((error: unknown) => {
      if (error instanceof GociError && error.code === 'NOT_FOUND' && entry === undefined) return undefined;
      throw error;
    });
    if (!bytes) return undefined;
    const mediaType = entry?.mediaType ?? (JSON.parse(bytes.toString('utf8')) as { mediaType?: string }).mediaType;
    return { bytes, mediaType: mediaType ?? '', digest };
  };
  return {
    async manifest(reference) {
      const found = await findManifest(reference);
      if (found) return found;
      throw new GociError('NOT_FOUND', `${where}: has no manifest ${reference}`, {
        hint: 'name a tag the layout has (goci inspect oci:DIR lists them)',
      });
    },
    findManifest,
    async referrers(digest) {
      const entry = await tagged(referrersTag(digest));
      if (!entry) return [];
      const index = JSON.parse((await blob(entry.digest, 4 << 20)).toString('utf8')) as { manifests?: Descriptor[] };
      return Array.isArray(index.manifests) ? index.manifests : [];
    },
    blob,
    async onlyTag() {
      const tags = (await entries())
        .map((entry) => entry.annotations?.[REF_NAME])
        .filter((tag): tag is string => typeof tag === 'string' && !isReferrersTag(tag));
      if (tags.length === 1) return tags[0]!;
      throw new GociError('BAD_ARGUMENT', `${where}: holds ${tags.length} tags (${tags.join(', ') || 'none'})`, {
        hint: 'name one: oci:DIR:TAG',
      });
    },
  };
}
