import { EMPTY_CONFIG, referrersIndex, referrersTag, type Artifact } from '../oci/artifact.js';
import { writeArtifactBlobs } from './artifact-layout.js';
import type { Descriptor } from '../oci/descriptor.js';
import { MEDIA_TYPES } from '../oci/media-types.js';
import { blobPath } from '../oci/layout.js';
import type { RegistryClient } from '../registry/client.js';

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
  stagingDir: string,
  mountable: ReadonlyMap<string, string> = new Map(),
): Promise<AttachedBy> {
  await writeArtifactBlobs(stagingDir, artifact);
  for (const blob of [{ digest: artifact.payload.digest, size: artifact.payload.size }, EMPTY_CONFIG]) {
    if ((await client.blobExists(repository, blob.digest)) !== undefined) continue;
    const from = mountable.get(blob.digest);
    if (from !== undefined && (await client.mountBlob(repository, blob.digest, from))) continue;
    await client.uploadBlobFile(repository, blob.digest, blob.size, blobPath(stagingDir, blob.digest));
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
