import assert from 'node:assert/strict';
import { sign } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import {
  OCI_INDEX,
  OCI_MANIFEST,
  attachReferrer,
  putManifest,
  uploadBlob,
  type WrittenDescriptor,
} from './registry-writes.js';

/**
 * An image as another builder would have pushed it from the same content: every layer
 * decompressed and compressed again at another gzip level (other bytes, the same diff_ids),
 * configs untouched, and each platform's provenance statement carried over to the new manifest
 * with `edit` applied (to record another zlib, say), signed with `keyPem` as goci signs.
 * Plain registry API calls: this is the test's doing, not goci's.
 */

const DSSE = 'application/vnd.dsse.envelope.v1+json';
const IN_TOTO = 'application/vnd.in-toto+json';
const SLSA = 'https://slsa.dev/provenance/v1';

export interface RecompressedCopy {
  registryUrl: string;
  repository: string;
  from: string;
  to: string;
  gzipLevel: number;
  keyPem: string;
  edit: (statement: Record<string, any>) => void;
  /** Changes each layer's uncompressed bytes before they are compressed again (default: none). */
  alter?: (tar: Buffer) => Buffer;
}

export async function recompressedCopy(copy: RecompressedCopy): Promise<string> {
  const { registryUrl, repository } = copy;
  const base = `${registryUrl}/v2/${repository}`;
  const bytes = async (url: string, accept?: string): Promise<Buffer> => {
    const response = await fetch(url, accept ? { headers: { accept } } : {});
    assert.equal(response.status, 200, url);
    return Buffer.from(await response.arrayBuffer());
  };
  const json = async (reference: string, accept: string): Promise<Record<string, any>> =>
    JSON.parse((await bytes(`${base}/manifests/${reference}`, accept)).toString('utf8'));

  /** The statement about `from`, made about `to` (and edited), signed, attached under `to`'s fallback tag. */
  const carryProvenance = async (from: string, to: WrittenDescriptor): Promise<void> => {
    const listed = await json(from.replace(':', '-'), OCI_INDEX);
    const referrer = (listed.manifests as Record<string, any>[]).find(
      (item) => item.annotations?.['dev.goci.predicate-type'] === SLSA,
    );
    assert.ok(referrer, `no provenance for ${from}`);
    const artifact = await json(referrer.digest, OCI_MANIFEST);
    const envelope = JSON.parse((await bytes(`${base}/blobs/${artifact.layers[0].digest}`)).toString('utf8'));
    const statement = JSON.parse(Buffer.from(envelope.payload, 'base64').toString('utf8'));
    statement.subject[0].digest.sha256 = to.digest.slice('sha256:'.length);
    copy.edit(statement);
    const payload = Buffer.from(JSON.stringify(statement));
    const pae = Buffer.concat([Buffer.from(`DSSEv1 ${IN_TOTO.length} ${IN_TOTO} ${payload.length} `), payload]);
    const signature = sign('sha256', pae, { key: copy.keyPem, dsaEncoding: 'der' }).toString('base64');
    const sealed = { payloadType: IN_TOTO, payload: payload.toString('base64'), signatures: [{ sig: signature }] };
    await attachReferrer(registryUrl, repository, to, DSSE, Buffer.from(JSON.stringify(sealed)), referrer.annotations);
  };

  const index = await json(copy.from, OCI_INDEX);
  const entries: Record<string, unknown>[] = [];
  for (const entry of index.manifests as Record<string, any>[]) {
    const manifest = await json(entry.digest, OCI_MANIFEST);
    const layers: Record<string, unknown>[] = [];
    for (const layer of manifest.layers as Record<string, any>[]) {
      const tar = gunzipSync(await bytes(`${base}/blobs/${layer.digest}`));
      const again = gzipSync(copy.alter ? copy.alter(tar) : tar, { level: copy.gzipLevel });
      const written = await uploadBlob(registryUrl, repository, again);
      layers.push({ ...layer, digest: written.digest, size: written.size });
    }
    const written = await putManifest(registryUrl, repository, undefined, OCI_MANIFEST, { ...manifest, layers });
    entries.push({ ...entry, digest: written.digest, size: written.size });
    await carryProvenance(entry.digest, written);
  }
  const written = await putManifest(registryUrl, repository, copy.to, OCI_INDEX, { ...index, manifests: entries });
  return written.digest;
}
