import { createReadStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { GociError } from '../common/errors.js';
import { RegistryClient, type ManifestResponse } from '../registry/client.js';
import type { Verbose, WaitHook } from '../registry/http.js';
import { MANIFEST_TYPES, topManifest } from '../registry/top-manifest.js';
import { formatReference, parseReference, type ImageRef } from '../registry/reference.js';
import type { Descriptor } from '../oci/descriptor.js';
import { MAX_JSON_BLOB, readRange, type ImageFiles } from './image-files.js';
import { imagesUnder, type StoredImageSet } from './read-layout.js';
import type { ReferrerSource } from './referrers.js';

/**
 * An image read straight from a registry (`docker://REGISTRY/REPO[:TAG|@DIGEST]`), through the
 * same code that reads OCI layouts: the registry is made to look like a layout's blob store
 * (`blobs/sha256/<hex>`), where manifests come from /manifests/<digest>, configs from
 * /blobs/<digest> into memory, and layers from /blobs/<digest> into a temporary file, only
 * when find-file asks for one (top down, as far as needed). Every byte is checked twice: by
 * the client as it arrives, and by the layout reader against the digest its parent names.
 */

export interface RegistryAccess {
  /** Hosts that may be spoken to over plain HTTP (loopback always may). */
  insecureRegistries?: readonly string[];
  verbose?: Verbose;
  /** Told before every wait between tries (Retry-After or backoff). */
  onWait?: WaitHook;
  /** Environment for credential lookup (default process.env). */
  env?: NodeJS.ProcessEnv;
}

export interface OpenedRegistryImage {
  files: ImageFiles;
  found: StoredImageSet;
  referrers: ReferrerSource;
  /** Removes the downloaded layers. */
  close(): Promise<void>;
}

const BLOB_PATH = /^blobs\/sha256\/([0-9a-f]{64})$/;

type Known = { kind: 'manifest'; mediaType: string } | { kind: 'config' } | { kind: 'layer'; size: number };

/**
 * A repository seen as an OCI layout's blob store. What each digest is (manifest, config or
 * layer) is learnt from the documents already read; a digest nobody named is taken for a blob.
 */
class RegistryFiles implements ImageFiles {
  readonly description: string;
  readonly location: string;
  /** Manifests and configs, whole, as the registry sent them (the client checked their digests). */
  private readonly documents = new Map<string, Buffer>();
  private readonly known = new Map<string, Known>();
  private readonly fetching = new Map<string, Promise<Buffer>>();
  private readonly downloads = new Map<string, Promise<string>>();
  private scratch: Promise<string> | undefined;

  constructor(
    private readonly client: RegistryClient,
    private readonly repository: string,
    where: string,
  ) {
    this.description = `the repository ${where}`;
    this.location = where;
  }

  /** A manifest the caller fetched (by tag), so it is not fetched again by digest. */
  remember(manifest: ManifestResponse): void {
    this.documents.set(manifest.digest, manifest.bytes);
    this.learn(manifest.bytes);
  }

  /** Marks digests as manifests (referrers, index entries) so they are fetched from /manifests/. */
  expectManifests(descriptors: readonly Descriptor[]): void {
    for (const descriptor of descriptors)
      this.note(descriptor.digest, { kind: 'manifest', mediaType: descriptor.mediaType });
  }

  async size(path: string): Promise<number | undefined> {
    const digest = digestOf(path);
    if (digest === undefined) return undefined;
    const document = await this.document(digest);
    if (document !== undefined) return document.length;
    const known = this.known.get(digest);
    if (known?.kind === 'layer') return known.size;
    // A digest no document named: ask the registry whether it has such a blob.
    const size = await this.client.blobExists(this.repository, digest);
    if (size !== undefined) this.known.set(digest, { kind: 'layer', size });
    return size;
  }

  async read(path: string, start: number, length: number): Promise<Buffer> {
    const digest = this.blobDigest(path);
    const document = await this.document(digest);
    if (document !== undefined) return document.subarray(start, start + length);
    return readRange(await this.download(digest), start, length);
  }

  stream(path: string): Readable {
    const digest = this.blobDigest(path);
    const chunks = async function* (files: RegistryFiles): AsyncGenerator<Buffer> {
      const document = await files.document(digest);
      if (document !== undefined) {
        yield document;
        return;
      }
      const file = await files.download(digest);
      for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) yield chunk as Buffer;
    };
    return Readable.from(chunks(this), { objectMode: false });
  }

  async close(): Promise<void> {
    const scratch = this.scratch;
    this.scratch = undefined;
    // Downloads still running would write into the directory about to go.
    await Promise.allSettled(this.downloads.values());
    if (scratch)
      await scratch.then(
        (dir) => rm(dir, { recursive: true, force: true }),
        () => undefined,
      );
  }

  private blobDigest(path: string): string {
    const digest = digestOf(path);
    if (digest === undefined) throw new GociError('NOT_FOUND', `${path} is not a blob of ${this.description}`);
    return digest;
  }

  private note(digest: unknown, known: Known): void {
    if (typeof digest !== 'string' || this.documents.has(digest)) return;
    // What a manifest says a digest is wins over a guess; the first manifest to say it wins.
    if (!this.known.has(digest)) this.known.set(digest, known);
  }

  /** Notes what the digests a manifest or index names are. */
  private learn(bytes: Buffer): void {
    let document: Record<string, unknown>;
    try {
      document = JSON.parse(bytes.toString('utf8')) as Record<string, unknown>;
    } catch {
      return; // the layout reader reports it
    }
    if (document === null || typeof document !== 'object') return;
    const descriptors = (value: unknown): { digest?: unknown; size?: unknown; mediaType?: unknown }[] =>
      Array.isArray(value)
        ? value.filter((item): item is Record<string, unknown> => item !== null && typeof item === 'object')
        : [];
    for (const entry of descriptors(document.manifests))
      this.note(entry.digest, {
        kind: 'manifest',
        mediaType: typeof entry.mediaType === 'string' ? entry.mediaType : '',
      });
    const config = document.config as { digest?: unknown } | undefined;
    if (config && typeof config === 'object') this.note(config.digest, { kind: 'config' });
    for (const layer of descriptors(document.layers)) {
      if (typeof layer.size === 'number') this.note(layer.digest, { kind: 'layer', size: layer.size });
    }
  }

  /** The manifest or config with this digest, fetched once; undefined for a layer. */
  private async document(digest: string): Promise<Buffer | undefined> {
    const held = this.documents.get(digest);
    if (held !== undefined) return held;
    const known = this.known.get(digest);
    if (known === undefined || known.kind === 'layer') return undefined;
    let fetching = this.fetching.get(digest);
    if (fetching === undefined) {
      fetching = (async () => {
        if (known.kind === 'config') return this.client.fetchBlobBytes(this.repository, digest, MAX_JSON_BLOB);
        const accept =
          known.mediaType && !MANIFEST_TYPES.includes(known.mediaType)
            ? [...MANIFEST_TYPES, known.mediaType]
            : MANIFEST_TYPES;
        const manifest = await this.client.getManifest(this.repository, digest, accept);
        this.learn(manifest.bytes);
        return manifest.bytes;
      })();
      this.fetching.set(digest, fetching);
    }
    const bytes = await fetching;
    this.documents.set(digest, bytes);
    return bytes;
  }

  /** Downloads a layer once into the scratch directory; the client checks its size and digest. */
  private download(digest: string): Promise<string> {
    let download = this.downloads.get(digest);
    if (download === undefined) {
      const known = this.known.get(digest);
      download = (async () => {
        this.scratch ??= mkdtemp(join(tmpdir(), 'goci-inspect-'));
        const file = join(await this.scratch, digest.slice('sha256:'.length));
        await this.client.fetchBlobToFile(
          this.repository,
          digest,
          known?.kind === 'layer' ? known.size : undefined,
          file,
        );
        return file;
      })();
      // A failed download may be asked for again (and fail with the same reason).
      download.catch(() => this.downloads.delete(digest));
      this.downloads.set(digest, download);
    }
    return download;
  }
}

function digestOf(path: string): string | undefined {
  const match = BLOB_PATH.exec(path);
  return match ? `sha256:${match[1]}` : undefined;
}

/** `registry/repository` as given after `docker://`, parsed as Docker does (Docker Hub's `library/` filled in). */
export function registryImageRef(path: string, tag: string | undefined, digest: string | undefined): ImageRef {
  return { ...parseReference(path), tag, digest };
}

/**
 * Opens the image a registry reference names: the manifest or index of its digest, else of its
 * tag (`latest` when it has neither), and the platform images under it. A tag or repository
 * the registry does not have fails with one line that lists the repository's tags.
 */
export async function openRegistryImage(ref: ImageRef, access: RegistryAccess = {}): Promise<OpenedRegistryImage> {
  const client = new RegistryClient({
    registry: ref.registry,
    insecureRegistries: access.insecureRegistries ?? [],
    ...(access.verbose ? { verbose: access.verbose } : {}),
    ...(access.onWait ? { onWait: access.onWait } : {}),
    ...(access.env ? { env: access.env } : {}),
  });
  const where = formatReference({ ...ref, tag: undefined, digest: undefined });
  const tag = ref.digest === undefined ? (ref.tag ?? 'latest') : ref.tag;
  const files = new RegistryFiles(client, ref.repository, where);
  try {
    const top = await topManifest(client, ref, where, tag);
    files.remember(top);
    const found = await imagesUnder(files, { mediaType: top.mediaType, digest: top.digest, size: top.bytes.length });
    const referrers: ReferrerSource = {
      async list(subject) {
        const descriptors = await client.referrers(ref.repository, subject);
        files.expectManifests(descriptors);
        return descriptors;
      },
    };
    return { files, found: { ...(tag === undefined ? {} : { tag }), ...found }, referrers, close: () => files.close() };
  } catch (error) {
    await files.close();
    throw error;
  }
}
