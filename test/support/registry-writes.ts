import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';

/**
 * Writes to a registry with plain distribution API calls, as another client would: what a test
 * puts there to see what goci makes of it. Nothing here is goci's code.
 */

export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';

export interface WrittenDescriptor {
  mediaType: string;
  digest: string;
  size: number;
}

export const digestOf = (bytes: Buffer): string => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

export async function uploadBlob(registryUrl: string, repository: string, bytes: Buffer): Promise<WrittenDescriptor> {
  const started = await fetch(`${registryUrl}/v2/${repository}/blobs/uploads/`, { method: 'POST' });
  assert.equal(started.status, 202);
  const location = new URL(started.headers.get('location') ?? '', registryUrl);
  location.searchParams.set('digest', digestOf(bytes));
  const put = await fetch(location, {
    method: 'PUT',
    body: new Uint8Array(bytes),
    headers: { 'content-type': 'application/octet-stream' },
  });
  assert.equal(put.status, 201, await put.text());
  return { mediaType: 'application/octet-stream', digest: digestOf(bytes), size: bytes.length };
}

/** Puts `document` under `reference`, or by its own digest when `reference` is undefined. */
export async function putManifest(
  registryUrl: string,
  repository: string,
  reference: string | undefined,
  mediaType: string,
  document: unknown,
): Promise<WrittenDescriptor> {
  const bytes = Buffer.from(JSON.stringify(document));
  const put = await fetch(`${registryUrl}/v2/${repository}/manifests/${reference ?? digestOf(bytes)}`, {
    method: 'PUT',
    body: new Uint8Array(bytes),
    headers: { 'content-type': mediaType },
  });
  assert.equal(put.status, 201, await put.text());
  return { mediaType, digest: digestOf(bytes), size: bytes.length };
}

/**
 * An OCI 1.1 artifact of one payload about `subject`, listed under the subject's fallback tag
 * (replacing what that tag listed): the registry here has no referrers API.
 */
export async function attachReferrer(
  registryUrl: string,
  repository: string,
  subject: WrittenDescriptor,
  artifactType: string,
  payload: Buffer,
  annotations: Record<string, string>,
): Promise<WrittenDescriptor> {
  const layer = await uploadBlob(registryUrl, repository, payload);
  const config = await uploadBlob(registryUrl, repository, Buffer.from('{}'));
  const document = {
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    artifactType,
    config: { ...config, mediaType: 'application/vnd.oci.empty.v1+json' },
    layers: [{ ...layer, mediaType: artifactType }],
    subject,
    annotations,
  };
  const attached = await putManifest(registryUrl, repository, undefined, OCI_MANIFEST, document);
  await putManifest(registryUrl, repository, subject.digest.replace(':', '-'), OCI_INDEX, {
    schemaVersion: 2,
    mediaType: OCI_INDEX,
    manifests: [{ ...attached, artifactType, annotations }],
  });
  return attached;
}
