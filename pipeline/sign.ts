import type { SigningKey } from '../common/signing-key.js';
import type { Descriptor } from '../oci/descriptor.js';
import { MEDIA_TYPES } from '../oci/media-types.js';
import {
  COSIGN_SIGNATURE_ANNOTATION,
  signatureLayer,
  signatureManifest,
  signatureTag,
  simpleSigningPayload,
} from '../oci/simple-signing.js';
import type { RegistryClient } from '../registry/client.js';
import type { RegistryClients } from '../registry/clients.js';
import { ensureBlob } from '../registry/push.js';
import { MANIFEST_TYPES, imageManifests } from './registry-image.js';
import { formatReference, parseReference } from '../registry/reference.js';

/** One manifest signed: its digest and the tag its signatures are stored under. */
export interface SignedManifest {
  digest: string;
  tag: string;
}

/**
 * Signs an image in its registry as cosign does (`cosign sign --key`): the manifest `reference`
 * names and, when that is an index, each platform image in it, each under `sha256-<hex>.sig`
 * with what was there kept. The signed identity is the repository, as pushed.
 */
export async function signImage(
  clients: RegistryClients,
  reference: string,
  key: SigningKey,
): Promise<SignedManifest[]> {
  const ref = parseReference(reference);
  const client = clients.for(ref.registry);
  const digests = (await imageManifests(client, ref)).map((manifest) => manifest.digest);
  const identity = formatReference({ ...ref, tag: undefined, digest: undefined });
  const signed: SignedManifest[] = [];
  for (const digest of digests) signed.push(await signManifest(client, ref.repository, identity, digest, key));
  return signed;
}

async function signManifest(
  client: RegistryClient,
  repository: string,
  identity: string,
  digest: string,
  key: SigningKey,
): Promise<SignedManifest> {
  const payload = simpleSigningPayload(identity, digest);
  const tag = signatureTag(digest);
  const existing = (await client.headManifest(repository, tag, MANIFEST_TYPES))
    ? await signaturesAt(client, repository, tag)
    : [];
  // This key's signature of this payload is there already: signing again would only add a twin.
  const signature = (item: Descriptor): string => item.annotations?.[COSIGN_SIGNATURE_ANNOTATION] ?? '';
  if (existing.some((item) => item.digest === payload.digest && key.signed(payload.bytes, signature(item))))
    return { digest, tag };
  const layer = signatureLayer(payload, key.sign(payload.bytes));
  const { manifest, config } = signatureManifest([...existing, layer]);
  for (const blob of [payload, config])
    await ensureBlob(client, repository, { digest: blob.digest, size: blob.size, mountFrom: undefined }, blob.bytes);
  await client.putManifest(repository, tag, MEDIA_TYPES.oci.manifest, manifest.bytes);
  return { digest, tag };
}

async function signaturesAt(client: RegistryClient, repository: string, tag: string): Promise<Descriptor[]> {
  const { bytes } = await client.getManifest(repository, tag, MANIFEST_TYPES);
  const layers = (JSON.parse(bytes.toString('utf8')) as { layers?: Descriptor[] }).layers;
  return Array.isArray(layers) ? layers : [];
}
