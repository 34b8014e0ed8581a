import assert from 'node:assert/strict';
import { createHash, sign } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';

/**
 * An image as another builder would have pushed it from the same content: every layer
 * decompressed and compressed again at another gzip level (other bytes, the same diff_ids),
 * configs untouched, and each platform's provenance statement carried over to the new manifest
 * with `edit` applied (to record another zlib, say), signed with `keyPem` as goci signs.
 * Plain registry API calls: this is the test's doing, not goci's.
 */

const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const DSSE = 'application/vnd.dsse.envelope.v1+json';
const IN_TOTO = 'application/vnd.in-toto+json';
const SLSA = 'https://slsa.dev/provenance/v1';

interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  [field: string]: unknown;
}

export interface RecompressedCopy {
  registryUrl: string;
  repository: string;
  from: string;
  to: string;
  gzipLevel: number;
  keyPem: string;
  edit: (statement: Record<string, any>) => void;
}

const digestOf = (bytes: Buffer): string => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

async function getBytes(url: string, accept?: string): Promise<Buffer> {
  const response = await fetch(url, accept ? { headers: { accept } } : {});
  assert.equal(response.status, 200, url);
  return Buffer.from(await response.arrayBuffer());
}

export async function recompressedCopy(copy: RecompressedCopy): Promise<string> {
  const base = `${copy.registryUrl}/v2/${copy.repository}`;
  const upload = async (bytes: Buffer): Promise<{ digest: string; size: number }> => {
    const started = await fetch(`${base}/blobs/uploads/`, { method: 'POST' });
    assert.equal(started.status, 202);
    const location = new URL(started.headers.get('location') ?? '', copy.registryUrl);
    location.searchParams.set('digest', digestOf(bytes));
    const put = await fetch(location, {
      method: 'PUT',
      body: new Uint8Array(bytes),
      headers: { 'content-type': 'application/octet-stream' },
    });
    assert.equal(put.status, 201, await put.text());
    return { digest: digestOf(bytes), size: bytes.length };
  };
  const putManifest = async (reference: string, mediaType: string, document: unknown): Promise<Descriptor> => {
    const bytes = Buffer.from(JSON.stringify(document));
    const put = await fetch(`${base}/manifests/${reference}`, {
      method: 'PUT',
      body: new Uint8Array(bytes),
      headers: { 'content-type': mediaType },
    });
    assert.equal(put.status, 201, await put.text());
    return { mediaType, digest: digestOf(bytes), size: bytes.length };
  };
  const json = async (reference: string, accept: string): Promise<Record<string, any>> =>
    JSON.parse((await getBytes(`${base}/manifests/${reference}`, accept)).toString('utf8'));

  const index = await json(copy.from, OCI_INDEX);
  const entries: Descriptor[] = [];
  for (const entry of index.manifests as Descriptor[]) {
    const manifest = await json(entry.digest, OCI_MANIFEST);
    const layers: Descriptor[] = [];
    for (const layer of manifest.layers as Descriptor[]) {
      const compressed = await getBytes(`${base}/blobs/${layer.digest}`);
      const again = gzipSync(gunzipSync(compressed), { level: copy.gzipLevel });
      layers.push({ ...layer, ...(await upload(again)), mediaType: layer.mediaType });
    }
    const recompressed = { ...manifest, layers };
    const written = await putManifest(digestOf(Buffer.from(JSON.stringify(recompressed))), OCI_MANIFEST, recompressed);
    entries.push({ ...entry, digest: written.digest, size: written.size });
    await carryProvenance(entry.digest, written);
  }
  const written = await putManifest(copy.to, OCI_INDEX, { ...index, manifests: entries });
  return written.digest;

  /** The statement about `from`, made about `to` (and edited), signed, attached under `to`'s fallback tag. */
  async function carryProvenance(from: string, to: Descriptor): Promise<void> {
    const listed = await json(from.replace(':', '-'), OCI_INDEX);
    const referrer = (listed.manifests as Descriptor[]).find(
      (item) => (item.annotations as Record<string, string> | undefined)?.['dev.goci.predicate-type'] === SLSA,
    );
    assert.ok(referrer, `no provenance for ${from}`);
    const artifact = await json(referrer.digest, OCI_MANIFEST);
    const envelope = JSON.parse((await getBytes(`${base}/blobs/${artifact.layers[0].digest}`)).toString('utf8'));
    const statement = JSON.parse(Buffer.from(envelope.payload, 'base64').toString('utf8'));
    statement.subject[0].digest.sha256 = to.digest.slice('sha256:'.length);
    copy.edit(statement);
    const payload = Buffer.from(JSON.stringify(statement));
    const pae = Buffer.concat([Buffer.from(`DSSEv1 ${IN_TOTO.length} ${IN_TOTO} ${payload.length} `), payload]);
    const signature = sign('sha256', pae, { key: copy.keyPem, dsaEncoding: 'der' }).toString('base64');
    const sealed = Buffer.from(
      JSON.stringify({ payloadType: IN_TOTO, payload: payload.toString('base64'), signatures: [{ sig: signature }] }),
    );
    const layer = await upload(sealed);
    await upload(Buffer.from('{}'));
    const document = {
      ...artifact,
      layers: [{ mediaType: DSSE, digest: layer.digest, size: layer.size }],
      subject: { mediaType: to.mediaType, digest: to.digest, size: to.size },
    };
    const bytes = Buffer.from(JSON.stringify(document));
    const attached = await putManifest(digestOf(bytes), OCI_MANIFEST, document);
    await putManifest(to.digest.replace(':', '-'), OCI_INDEX, {
      schemaVersion: 2,
      mediaType: OCI_INDEX,
      manifests: [{ ...attached, artifactType: DSSE, annotations: referrer.annotations }],
    });
  }
}
