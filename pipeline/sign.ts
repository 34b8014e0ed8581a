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
import { addToSharedTag } from '../registry/shared-tag.js';
import { MANIFEST_TYPES, imageManifests } from './registry-image.js';
import { bundleVerdict } from './verify.js';
import { registryStore } from './image-store.js';
import { formatReference, parseReference } from '../registry/reference.js';
import { signatureBundleArtifact } from '../oci/sigstore-bundle.js';
import { attachToRegistry, type AttachedBy } from '../sinks/registry-referrers.js';

/** One manifest signed: its digest, the tag its cosign signatures are under, how its Sigstore bundle was attached. */
export interface SignedManifest {
  digest: string;
  tag: string;
  bundle?: AttachedBy | 'already-there';
}

/**
 * Signs an image in its registry as cosign does (`cosign sign --key`): the manifest `reference`
 * names and, when that is an index, each platform image in it, each under `sha256-<hex>.sig`
 * with what was there kept (the signed identity is the repository, as pushed), and, when
 * `bundles` says when they are made (a build attaches its own with the image instead), each
 * with a Sigstore bundle as an OCI 1.1 referrer.
 */
export async function signImage(
  clients: RegistryClients,
  reference: string,
  key: SigningKey,
  bundles?: { created: string },
): Promise<SignedManifest[]> {
  const ref = parseReference(reference);
  const client = clients.for(ref.registry);
  const store = registryStore(client, ref.repository);
  const manifests = await imageManifests(store, ref.digest ?? ref.tag ?? 'latest');
  const identity = formatReference({ ...ref, tag: undefined, digest: undefined });
  const signed: SignedManifest[] = [];
  for (const { digest, mediaType, size } of manifests) {
    const done: SignedManifest = await signManifest(client, ref.repository, identity, digest, key);
    const subject = { digest, mediaType, size };
    // Unlike a `.sig` payload, no two bundles are alike (ECDSA, the time): one by this key is enough.
    if (bundles)
      done.bundle =
        (await bundleVerdict(store, digest, key)) === 'ok'
          ? 'already-there'
          : await attachToRegistry(
              client,
              ref.repository,
              signatureBundleArtifact(subject, key, bundles.created),
              subject,
            );
    signed.push(done);
  }
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
  const signatures = (current: unknown): Descriptor[] => {
    const layers = (current as { layers?: unknown } | undefined)?.layers;
    // Another client's junk is not kept: only what can be a signature layer.
    return Array.isArray(layers)
      ? ((layers as (Descriptor | null)[]).filter((item) => typeof item?.digest === 'string') as Descriptor[])
      : [];
  };
  const signature = (item: Descriptor): string => {
    const value: unknown = item.annotations?.[COSIGN_SIGNATURE_ANNOTATION];
    return typeof value === 'string' ? value : '';
  };
  const tag = signatureTag(digest);
  await addToSharedTag(client, {
    repository,
    tag,
    mediaType: MEDIA_TYPES.oci.manifest,
    // cosign stores `.sig` images as Docker manifests where the registry takes no OCI ones.
    accept: MANIFEST_TYPES,
    // This key's signature of this payload is there already: signing again would only add a twin.
    holds: (current) =>
      signatures(current).some((item) => item.digest === payload.digest && key.signed(payload.bytes, signature(item))),
    merged: async (current) => {
      const layer = signatureLayer(payload, key.sign(payload.bytes));
      const { manifest, config } = signatureManifest([...signatures(current), layer]);
      for (const blob of [payload, config])
        await ensureBlob(
          client,
          repository,
          { digest: blob.digest, size: blob.size, mountFrom: undefined },
          blob.bytes,
        );
      return manifest.bytes;
    },
  });
  return { digest, tag };
}
