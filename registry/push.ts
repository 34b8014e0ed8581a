import { GociError } from '../common/errors.js';
import type { ImageManifest } from '../oci/manifest.js';
import type { JsonBlob } from '../oci/descriptor.js';
import { runLimited } from '../common/run-limited.js';
import type { RegistryClient } from './client.js';

/** How a blob came to be in the target repository. */
export type BlobOutcome = 'present' | 'mounted' | 'uploaded';

/** One blob to make present in the target repository. */
export interface BlobToPush {
  digest: string;
  size: number;
  /** Another repository of the same registry that already has it (a remote base's layers). */
  mountFrom: string | undefined;
}

export interface PushRequest {
  client: RegistryClient;
  repository: string;
  /** The local file holding a blob (see ContentStore.file). */
  blobFile: (digest: string) => string;
  images: ImageManifest[];
  index: JsonBlob;
  indexMediaType: string;
  tags: string[];
  /** Blobs known to exist in another repository of this registry, by digest → repository. */
  mountable: ReadonlyMap<string, string>;
  concurrency: number;
  /** Blobs already being sent (ensureBlob started early, while the image was still being built). */
  started?: ReadonlyMap<string, Promise<BlobOutcome>>;
  /** Platform manifests already being put by digest (with their blobs, which `started` holds), by digest. */
  startedManifests?: ReadonlyMap<string, Promise<void>>;
  onBlob?: (digest: string, how: BlobOutcome) => void;
}

export interface PushResult {
  digest: string;
  blobs: { present: number; mounted: number; uploaded: number; uploadedBytes: number };
}

/**
 * Pushes in the order a registry can check: every blob, then each platform manifest by digest
 * (its blobs exist), then the index under each tag (its manifests exist), the first tag before
 * the others. A blob the repository already has is not sent again, so re-pushing an unchanged
 * image moves no blob bytes. A failure is a PushError that says which tags moved.
 */
export async function pushImage(request: PushRequest): Promise<PushResult> {
  const updated = new Set<string>();
  let tagging = false;
  try {
    return await pushInOrder(request, updated, () => {
      tagging = true;
    });
  } catch (error) {
    if (!(error instanceof GociError)) throw error;
    throw new PushError(error, request.tags, updated, tagging);
  }
}

/** Where each tag of a failed push stands: `updated` ones name the new index, `notUpdated` ones do not. */
export interface TagOutcome {
  updated: string[];
  notUpdated: string[];
}

/**
 * A push that failed: the cause's code, hint and exit status, and which tags moved. Once tags
 * were being written the message lists them, so a CI log says what `latest` points at now.
 */
export class PushError extends GociError {
  readonly tags: TagOutcome;

  constructor(cause: GociError, tags: readonly string[], updated: ReadonlySet<string>, tagging: boolean) {
    const outcome = {
      updated: tags.filter((tag) => updated.has(tag)),
      notUpdated: tags.filter((tag) => !updated.has(tag)),
    };
    const list = (names: string[]): string => (names.length > 0 ? names.join(', ') : 'none');
    const where = tagging ? `; tags updated: ${list(outcome.updated)}; not updated: ${list(outcome.notUpdated)}` : '';
    super(cause.code, `${cause.message}${where}`, {
      ...(cause.hint !== undefined ? { hint: cause.hint } : {}),
      ...(cause.detail !== undefined ? { detail: cause.detail } : {}),
      cause,
    });
    this.tags = outcome;
  }
}

async function pushInOrder(request: PushRequest, updated: Set<string>, startTagging: () => void): Promise<PushResult> {
  const { client, repository, indexMediaType, index } = request;
  const counts = { present: 0, mounted: 0, uploaded: 0, uploadedBytes: 0 };
  const early = request.startedManifests ?? new Map<string, Promise<void>>();
  // What each tag names now, asked while the blobs go up: a tag already on this index is not put
  // again, and the others cost one round trip each at the end, not two.
  const tagged = new Map(
    request.tags.map((tag) => [tag, client.headManifest(repository, tag, [indexMediaType]).catch(() => undefined)]),
  );
  // A registry stores a manifest only once every blob it names is there: a manifest it already
  // has needs no blob checked, so re-pushing an unchanged image costs a few HEAD requests. One
  // being put early is not asked about: its own blobs are being sent.
  const stored = await runLimited(
    request.images,
    request.concurrency,
    async (image) =>
      !early.has(image.manifest.digest) &&
      (await client.headManifest(repository, image.manifest.digest, [image.descriptor.mediaType])) !== undefined,
  );
  const missing = request.images.filter((_image, position) => !stored[position]);
  const known = new Set(
    request.images
      .filter((_image, position) => stored[position])
      .flatMap((image) => [image.config.digest, ...image.layers.map((layer) => layer.digest)]),
  );
  counts.present += known.size;
  await runLimited(
    blobsOf({ ...request, images: missing }).filter((blob) => !known.has(blob.digest)),
    request.concurrency,
    async (blob) => {
      const send = (): Promise<BlobOutcome> => ensureBlob(client, repository, blob, request.blobFile(blob.digest));
      // One sent early from another file (goci's cache, which another run may prune) is sent again from the image's.
      const how = await (request.started?.get(blob.digest)?.catch(send) ?? send());
      counts[how]++;
      if (how === 'uploaded') counts.uploadedBytes += blob.size;
      request.onBlob?.(blob.digest, how);
    },
  );
  await runLimited(missing, request.concurrency, async (image) => {
    const put = async (): Promise<void> => {
      await client.putManifest(repository, image.manifest.digest, image.descriptor.mediaType, image.manifest.bytes);
    };
    await (early.get(image.manifest.digest)?.catch(put) ?? put());
  });
  const tag = async (name: string): Promise<void> => {
    const current = await tagged.get(name);
    if (current?.digest !== index.digest) await client.putManifest(repository, name, indexMediaType, index.bytes);
    updated.add(name);
  };
  // The exact version tag first: the moving ones (`1.2`, `1`, `latest`, others) only follow a
  // release that is there. They are independent of each other, so each is tried.
  startTagging();
  const [exact, ...moving] = request.tags;
  if (exact !== undefined) await tag(exact);
  const failures: unknown[] = [];
  const record = (error: unknown): void => void failures.push(error);
  await runLimited(moving, request.concurrency, (name) => tag(name).catch(record));
  if (failures.length > 0) throw failures[0];
  return { digest: index.digest, blobs: counts };
}

function blobsOf(request: PushRequest): BlobToPush[] {
  const blobs = new Map<string, BlobToPush>();
  for (const image of request.images) {
    for (const descriptor of [...image.layers, { digest: image.config.digest, size: image.config.size }]) {
      blobs.set(descriptor.digest, {
        digest: descriptor.digest,
        size: descriptor.size,
        mountFrom: request.mountable.get(descriptor.digest),
      });
    }
  }
  return [...blobs.values()];
}

/**
 * Makes one blob present in `repository`: there already, mounted from `blob.mountFrom`, else
 * uploaded from `content` (a file's path, or the bytes of a small document).
 */
export async function ensureBlob(
  client: RegistryClient,
  repository: string,
  blob: BlobToPush,
  content: string | Buffer,
): Promise<BlobOutcome> {
  if ((await client.blobExists(repository, blob.digest)) !== undefined) return 'present';
  if (blob.mountFrom && (await client.mountBlob(repository, blob.digest, blob.mountFrom))) return 'mounted';
  if (typeof content === 'string') await client.uploadBlobFile(repository, blob.digest, blob.size, content);
  else await client.uploadBlobBytes(repository, blob.digest, content);
  return 'uploaded';
}
