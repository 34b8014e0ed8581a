import { EMPTY_CONFIG, EMPTY_CONFIG_BYTES, referrersIndex, referrersTag, type Artifact } from '../oci/artifact.js';
import type { Descriptor } from '../oci/descriptor.js';
import { MEDIA_TYPES } from '../oci/media-types.js';
import type { RegistryClient } from '../registry/client.js';
import { ensureBlob } from '../registry/push.js';
import { addToSharedTag } from '../registry/shared-tag.js';

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
  const listed = (current: unknown): Descriptor[] => {
    const manifests = (current as { manifests?: unknown } | undefined)?.manifests;
    if (!Array.isArray(manifests)) return [];
    return (manifests as (Descriptor | null)[]).filter((entry) => typeof entry?.digest === 'string') as Descriptor[];
  };
  await addToSharedTag(client, {
    repository,
    tag: referrersTag(subject.digest),
    mediaType: MEDIA_TYPES.oci.index,
    accept: [MEDIA_TYPES.oci.index],
    merged: (current) => referrersIndex(listed(current), artifact.descriptor).bytes,
    holds: (current) => listed(current).some((entry) => entry.digest === artifact.descriptor.digest),
  });
  return 'fallback-tag';
}
