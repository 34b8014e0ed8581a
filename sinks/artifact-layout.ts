import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { EMPTY_CONFIG, EMPTY_CONFIG_BYTES, referrersIndex, referrersTag, type Artifact } from '../oci/artifact.js';
import { sha256Digest, type Descriptor } from '../oci/descriptor.js';
import { MEDIA_TYPES } from '../oci/media-types.js';
import { REF_NAME, tagInLayout, writeJsonBlob } from '../oci/layout.js';

/** Blobs an artifact needs besides its manifest: its payload and the empty config. */
export async function writeArtifactBlobs(layoutDir: string, artifact: Artifact): Promise<void> {
  await writeJsonBlob(layoutDir, artifact.payload);
  await writeJsonBlob(layoutDir, { bytes: EMPTY_CONFIG_BYTES, digest: EMPTY_CONFIG.digest, size: EMPTY_CONFIG.size });
  await writeJsonBlob(layoutDir, artifact.manifest);
}

async function existingReferrers(layoutDir: string, tag: string): Promise<Descriptor[]> {
  const index = await readFile(join(layoutDir, 'index.json'), 'utf8').then(
    (text) => JSON.parse(text) as { manifests: Descriptor[] },
    () => undefined,
  );
  const entry = index?.manifests.find((candidate) => candidate.annotations?.[REF_NAME] === tag);
  if (!entry) return [];
  const bytes = await readFile(join(layoutDir, 'blobs', 'sha256', entry.digest.slice(7))).catch(() => undefined);
  return bytes && sha256Digest(bytes) === entry.digest
    ? ((JSON.parse(bytes.toString('utf8')) as { manifests: Descriptor[] }).manifests ?? [])
    : [];
}

/**
 * Stores the artifact in the layout and lists it under its subject the way a registry without
 * a referrers API does: an index tagged `sha256-<subject hex>`, which `goci inspect` reads back.
 */
export async function attachInLayout(layoutDir: string, artifact: Artifact, subject: Descriptor): Promise<void> {
  await writeArtifactBlobs(layoutDir, artifact);
  const tag = referrersTag(subject.digest);
  const index = referrersIndex(await existingReferrers(layoutDir, tag), artifact.descriptor);
  await writeJsonBlob(layoutDir, index);
  await tagInLayout(layoutDir, { mediaType: MEDIA_TYPES.oci.index, digest: index.digest, size: index.size }, tag);
}
