import { EMPTY_CONFIG, EMPTY_CONFIG_BYTES, referrersIndex, referrersTag, type Artifact } from '../oci/artifact.js';
import type { Descriptor } from '../oci/descriptor.js';
import { MEDIA_TYPES } from '../oci/media-types.js';
import type { RegistryClient } from '../registry/client.js';
import { ensureBlob } from '../registry/push.js';

/** How an artifact was linked to its subject. */
export type AttachedBy = 'referrers-api' | 'fallback-tag';

/**
 * Pushes an artifact that refers to `subject`: its blobs (mounted from another repository of the
 * registry where `mountable` names one), then its manifest. A registry with a
 * referrers API acknowledges the subject (`OCI-Subject`); otherwise the artifact is added to the
 * `sha256-<subject hex>` index, the distribution spec's fallback, which keeps earlier referrers.
 */
export async function attachToRegistry(
  client: RegistryClient,
  repository: string,
  artifact: Artifact,
  subject: Descriptor,
  mountable: ReadonlyMap<string, string> = new Map(),
): Promise<AttachedBy> {
  // Both blobs are small documents held in memory: sent from there.
  for (const [blob, bytes] of [
    [artifact.payload, artifact.payload.bytes],
    [EMPTY_CONFIG, EMPTY_CONFIG_BYTES],
  ] as const) {
    const mountFrom = mountable.get(blob.digest);
    await ensureBlob(client, repository, { digest: blob.digest, size: blob.size, mountFrom }, bytes);
  }
  const { subject: acknowledged } = await client.putManifest(
    repository,
    artifact.manifest.digest,
    MEDIA_TYPES.oci.manifest,
    artifact.manifest.bytes,
  );
  if (acknowledged) return 'referrers-api';
  const tag = referrersTag(subject.digest);
  const existing = (await client.headManifest(repository, tag, [MEDIA_TYPES.oci.index]))
    ? await referrersAt(client, repository, tag)
    : [];
  const index = referrersIndex(existing, artifact.descriptor);
  await client.putManifest(repository, tag, MEDIA_TYPES.oci.index, index.bytes);
  return 'fallback-tag';
}

async function referrersAt(client: RegistryClient, repository: string, tag: string): Promise<Descriptor[]> {
  const { bytes } = await client.getManifest(repository, tag, [MEDIA_TYPES.oci.index]);
  const index = JSON.parse(bytes.toString('utf8')) as { manifests?: Descriptor[] };
  return Array.isArray(index.manifests) ? index.manifests : [];
}
