import type { ImageManifest } from '../images/manifest.js';
import type { JsonBlob } from '../images/descriptor.js';
import { blobPath } from '../images/oci-layout.js';
import { runLimited } from '../compiler/schedule.js';
import type { RegistryClient } from './client.js';

/** One blob to make present in the target repository. */
interface BlobToPush {
  digest: string;
  size: number;
  /** Another repository of the same registry that already has it (a remote base's layers). */
  mountFrom: string | undefined;
}

export interface PushRequest {
  client: RegistryClient;
  repository: string;
  layoutDir: string;
  images: ImageManifest[];
  index: JsonBlob;
  indexMediaType: string;
  tags: string[];
  /** Blobs known to exist in another repository of this registry, by digest → repository. */
  mountable: ReadonlyMap<string, string>;
  concurrency: number;
  onBlob?: (digest: string, how: 'present' | 'mounted' | 'uploaded') => void;
}

export interface PushResult {
  digest: string;
  blobs: { present: number; mounted: number; uploaded: number; uploadedBytes: number };
}

/**
 * Pushes in the order a registry can check: every blob, then each platform manifest by digest
 * (its blobs exist), then the index under each tag (its manifests exist). A blob the
 * repository already has is not sent again, so re-pushing an unchanged image moves no blob bytes.
 */
export async function pushImage(request: PushRequest): Promise<PushResult> {
  const counts = { present: 0, mounted: 0, uploaded: 0, uploadedBytes: 0 };
  // A registry stores a manifest only once every blob it names is there: a manifest it already
  // has needs no blob checked, so re-pushing an unchanged image costs a few HEAD requests.
  const stored = await runLimited(request.images, request.concurrency, async (image) => (await request.client.headManifest(request.repository, image.manifest.digest, [image.descriptor.mediaType])) !== undefined);
  const missing = request.images.filter((_image, position) => !stored[position]);
  const known = new Set(request.images.filter((_image, position) => stored[position]).flatMap((image) => [image.config.digest, ...image.layers.map((layer) => layer.digest)]));
  counts.present += known.size;
  await runLimited(blobsOf({ ...request, images: missing }).filter((blob) => !known.has(blob.digest)), request.concurrency, async (blob) => {
    const how = await ensureBlob(request, blob);
    counts[how]++;
    if (how === 'uploaded') counts.uploadedBytes += blob.size;
    request.onBlob?.(blob.digest, how);
  });
  await runLimited(missing, request.concurrency, (image) => request.client.putManifest(request.repository, image.manifest.digest, image.descriptor.mediaType, image.manifest.bytes));
  await runLimited(request.tags, request.concurrency, async (tag) => {
    const current = await request.client.headManifest(request.repository, tag, [request.indexMediaType]);
    if (current?.digest !== request.index.digest) await request.client.putManifest(request.repository, tag, request.indexMediaType, request.index.bytes);
  });
  return { digest: request.index.digest, blobs: counts };
}

function blobsOf(request: PushRequest): BlobToPush[] {
  const blobs = new Map<string, BlobToPush>();
  for (const image of request.images) {
    for (const descriptor of [...image.layers, { digest: image.config.digest, size: image.config.size }]) {
      blobs.set(descriptor.digest, { digest: descriptor.digest, size: descriptor.size, mountFrom: request.mountable.get(descriptor.digest) });
    }
  }
  return [...blobs.values()];
}

async function ensureBlob(request: PushRequest, blob: BlobToPush): Promise<'present' | 'mounted' | 'uploaded'> {
  const { client, repository } = request;
  if ((await client.blobExists(repository, blob.digest)) !== undefined) return 'present';
  if (blob.mountFrom && (await client.mountBlob(repository, blob.digest, blob.mountFrom))) return 'mounted';
  await client.uploadBlobFile(repository, blob.digest, blob.size, blobPath(request.layoutDir, blob.digest));
  return 'uploaded';
}
