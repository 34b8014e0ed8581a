import { EMPTY_CONFIG } from '../oci/artifact.js';
import type { Descriptor } from '../oci/descriptor.js';
import type { Index } from '../oci/index.js';
import { imageManifestOf } from '../oci/image.js';
import { attachToRegistry, type AttachedBy } from './registry-referrers.js';
import type { RegistryClient } from '../registry/client.js';
import { ensureBlob, pushImage, type BlobOutcome } from '../registry/push.js';
import { PushedBlobs } from '../registry/pushed-blobs.js';
import { formatReference, withDigest, withTag, type ImageRef } from '../registry/reference.js';
import type { Pushed, Sink, SinkOutcome } from './sink.js';

const CONCURRENCY = 4;

/** Every blob of the index: its images' layers and configs, its referrers' payloads and their empty config. */
function blobDigests(index: Index): string[] {
  const images = index.images.map(imageManifestOf);
  const referrers = index.referrers.flatMap(({ artifact }) => [artifact.payload.digest, EMPTY_CONFIG.digest]);
  return [
    ...new Set([
      ...images.flatMap((image) => [image.config.digest, ...image.layers.map((layer) => layer.digest)]),
      ...referrers,
    ]),
  ];
}

/**
 * Blobs another repository of the target's registry holds, to mount rather than upload: a
 * registry base's layers, and whatever goci pushed to another repository there before.
 */
function mountable(index: Index, target: ImageRef, pushed: PushedBlobs): Map<string, string> {
  const sources = new Map<string, string>();
  for (const digest of blobDigests(index)) {
    const before = pushed.sourceFor(digest, target.repository);
    if (before !== undefined) sources.set(digest, before);
  }
  for (const layer of index.images.flatMap((image) => image.layers)) {
    if (layer.mountFrom?.registry === target.registry) sources.set(layer.descriptor.digest, layer.mountFrom.repository);
  }
  return sources;
}

/**
 * Pushes an index to a registry repository: blobs (mounted from a same-registry base where they
 * can be), each platform manifest, the index under every tag, then each referrer (an SBOM)
 * attached to its platform image through the referrers API or the `sha256-<hex>` fallback tag.
 */
export async function pushToRegistry(
  client: RegistryClient,
  target: ImageRef,
  index: Index,
  tags: string[],
  started?: { blobs: ReadonlyMap<string, Promise<BlobOutcome>>; manifests: ReadonlyMap<string, Promise<void>> },
): Promise<Pushed> {
  const pushed = await PushedBlobs.open(target.registry);
  const sources = mountable(index, target, pushed);
  const result = await pushImage({
    client,
    repository: target.repository,
    blobFile: (digest) => index.store.file(digest),
    images: index.images.map(imageManifestOf),
    index: { bytes: index.bytes, digest: index.descriptor.digest, size: index.descriptor.size },
    indexMediaType: index.descriptor.mediaType,
    tags,
    mountable: sources,
    concurrency: CONCURRENCY,
    ...(started ? { started: started.blobs, startedManifests: started.manifests } : {}),
  });
  const sboms: AttachedBy[] = [];
  for (const { artifact, subject } of index.referrers)
    sboms.push(await attachToRegistry(client, target.repository, artifact, subject, sources));
  await pushed.record(target.repository, blobDigests(index));
  const reference = formatReference(withDigest(target, result.digest));
  const pushedTags = tags.map((tag) => formatReference(withTag(target, tag)));
  return { reference, tags: pushedTags, blobs: result.blobs, sboms };
}

/**
 * The registry as a sink; `onPushed` is told the digest reference once everything is there. A
 * blob offered early is sent at once (mounted when goci pushed it to another repository there),
 * and a platform image offered early is sent whole, its manifest put by digest once its blobs
 * are there; write() waits for them instead of sending them again, and puts the index last.
 */
export function registrySink(client: RegistryClient, target: ImageRef, onPushed?: (reference: string) => void): Sink {
  const started = new Map<string, Promise<BlobOutcome>>();
  const startedManifests = new Map<string, Promise<void>>();
  let record: Promise<PushedBlobs> | undefined;
  const send = (blob: Pick<Descriptor, 'digest' | 'size'>, content: string | Buffer): Promise<BlobOutcome> => {
    let sending = started.get(blob.digest);
    if (!sending) {
      record ??= PushedBlobs.open(target.registry);
      sending = record.then((pushed) => {
        const mountFrom = pushed.sourceFor(blob.digest, target.repository);
        return ensureBlob(client, target.repository, { ...blob, mountFrom }, content);
      });
      // Its failure is write()'s to report, where the push would have sent the blob.
      sending.catch(() => undefined);
      started.set(blob.digest, sending);
    }
    return sending;
  };
  return {
    mountsFrom: (registry) => registry === target.registry,
    early(blob, file) {
      void send(blob, file);
    },
    earlyImage(image, layerFiles) {
      const { digest } = image.manifest;
      if (startedManifests.has(digest)) return;
      const blobs = image.layers.map((layer) => {
        const file = layerFiles.get(layer.digest);
        return file === undefined ? Promise.reject(new Error(`no file for ${layer.digest}`)) : send(layer, file);
      });
      blobs.push(send(image.config, image.config.bytes));
      const putting = Promise.all(blobs).then(async () => {
        await client.putManifest(target.repository, digest, image.descriptor.mediaType, image.manifest.bytes);
      });
      putting.catch(() => undefined);
      startedManifests.set(digest, putting);
    },
    async write(index: Index, tags: string[]): Promise<SinkOutcome> {
      try {
        const pushed = await pushToRegistry(client, target, index, tags, {
          blobs: started,
          manifests: startedManifests,
        });
        onPushed?.(pushed.reference);
        return { pushed };
      } finally {
        // What was sent early for an image the registry had already is not waited for by the push: it ends here.
        await Promise.allSettled([...started.values(), ...startedManifests.values()]);
      }
    },
  };
}
