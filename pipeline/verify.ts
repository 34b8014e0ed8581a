import type { VerificationKey } from '../common/signing-key.js';
import { isSha256Digest, type Descriptor } from '../oci/descriptor.js';
import { DSSE_MEDIA_TYPE, IN_TOTO_PAYLOAD_TYPE, IN_TOTO_STATEMENT_V1, preAuthenticationEncoding } from '../oci/dsse.js';
import { GociError } from '../common/errors.js';
import { COSIGN_SIGNATURE_ANNOTATION, signatureTag } from '../oci/simple-signing.js';
import { COSIGN_SIGN_PREDICATE, SIGSTORE_BUNDLE_MEDIA_TYPE } from '../oci/sigstore-bundle.js';
import type { RegistryClients } from '../registry/clients.js';
import { formatReference, parseReference } from '../registry/reference.js';
import { layoutImageStore, registryStore, type ImageStore } from './image-store.js';
import { MANIFEST_TYPES, imageManifests } from './registry-image.js';

/** What goci verify found for one manifest: the index, or a platform image. */
export interface ManifestVerdict {
  digest: string;
  platform: string | undefined;
  /** A signature by the key whose payload names this digest and the expected repository. */
  signature: SignatureVerdict;
  /** A Sigstore bundle referrer by the key whose statement is about exactly this digest. */
  bundle: SignatureVerdict;
  /** Platform images, when asked: a provenance statement about this digest, signed by the key. */
  provenance?: AttestationVerdict;
  /** Platform images, when asked: an SBOM attestation about this digest, signed by the key. */
  sbom?: AttestationVerdict;
}

export type SignatureVerdict = 'ok' | 'missing' | 'not-by-this-key' | 'other-image';
export type AttestationVerdict = 'ok' | 'missing' | 'unsigned' | 'other-image';

const SLSA_PROVENANCE = 'https://slsa.dev/provenance/v1';
const SBOM_TYPES = ['https://spdx.dev/Document', 'https://cyclonedx.org/bom'];

export interface VerifyResult {
  reference: string;
  digest: string;
  verdicts: ManifestVerdict[];
  ok: boolean;
  /** The provenance statements that passed, by the digest they are about. */
  statements: Map<string, Record<string, unknown>>;
}

const MAX_DOCUMENT = 4 << 20;

/** What goci verify checks: an image in a registry, or one in an OCI layout (its tag; the only one when undefined). */
export type VerifySource =
  | { kind: 'registry'; reference: string }
  | { kind: 'layout'; dir: string; tag: string | undefined };

/**
 * Checks an image against a public key: the manifest the reference names now and each platform
 * image must carry a signature by the key, a cosign `.sig` signature over a payload naming
 * exactly that digest and the reference's repository or a Sigstore bundle about exactly that
 * digest; with `provenance`, each platform image a SLSA statement about exactly it in a DSSE
 * envelope signed by the key. In an OCI layout, which names no repository, only bundles count.
 */
export async function verifyImage(
  clients: RegistryClients,
  source: VerifySource,
  key: VerificationKey,
  options: { provenance: boolean; sbom?: boolean },
): Promise<VerifyResult> {
  const { store, reference, identity, shown } = await openSource(clients, source);
  const subjects = await imageManifests(store, reference);
  const top = subjects[0]!;
  const verdicts: ManifestVerdict[] = [];
  const statements = new Map<string, Record<string, unknown>>();
  for (const subject of subjects) {
    const verdict: ManifestVerdict = {
      ...subject,
      signature: identity === undefined ? 'missing' : await signatureVerdict(store, identity, subject.digest, key),
      bundle: await bundleVerdict(store, subject.digest, key),
    };
    const image = subject.platform !== undefined || subjects.length === 1;
    if (options.provenance && image) {
      const found = await attestationVerdict(store, subject.digest, key, [SLSA_PROVENANCE]);
      verdict.provenance = found.verdict;
      if (found.statement) statements.set(subject.digest, found.statement);
    }
    if (options.sbom && image)
      verdict.sbom = (await attestationVerdict(store, subject.digest, key, SBOM_TYPES)).verdict;
    verdicts.push(verdict);
  }
  const ok = verdicts.every((item) => verdictOk(item));
  return { reference: shown, digest: top.digest, verdicts, ok, statements };
}

/** The store a source names, the reference of its image there, and the repository a `.sig` payload must name. */
async function openSource(
  clients: RegistryClients,
  source: VerifySource,
): Promise<{ store: ImageStore; reference: string; identity: string | undefined; shown: string }> {
  if (source.kind === 'layout') {
    const store = layoutImageStore(source.dir);
    const tag = source.tag ?? (await store.onlyTag());
    return { store, reference: tag, identity: undefined, shown: `oci:${source.dir}:${tag}` };
  }
  const ref = parseReference(source.reference);
  const store = registryStore(clients.for(ref.registry), ref.repository);
  const identity = formatReference({ ...ref, tag: undefined, digest: undefined });
  return { store, reference: ref.digest ?? ref.tag ?? 'latest', identity, shown: source.reference };
}

async function signatureVerdict(
  store: ImageStore,
  identity: string,
  digest: string,
  key: VerificationKey,
): Promise<SignatureVerdict> {
  const found = await store.findManifest(signatureTag(digest), MANIFEST_TYPES);
  if (!found) return 'missing';
  const manifest = jsonOf(found.bytes) as { layers?: unknown } | undefined;
  const layers = Array.isArray(manifest?.layers) ? (manifest.layers as Descriptor[]) : [];
  let signedByKey = false;
  for (const layer of layers) {
    const signature: unknown = layer?.annotations?.[COSIGN_SIGNATURE_ANNOTATION];
    if (typeof signature !== 'string' || !isSha256Digest(layer.digest)) continue;
    // The payload's own digest is checked on the way in: these are the bytes that were signed.
    const payload = await readable(store.blob(layer.digest, MAX_DOCUMENT));
    if (!payload || !key.signed(payload, signature)) continue;
    signedByKey = true;
    const critical = (jsonOf(payload) as { critical?: Record<string, any> } | undefined)?.critical;
    if (critical?.image?.['docker-manifest-digest'] === digest && critical?.identity?.['docker-reference'] === identity)
      return 'ok';
  }
  return signedByKey ? 'other-image' : layers.length > 0 ? 'not-by-this-key' : 'missing';
}

/**
 * Whether a manifest passed every check asked of it: signed (either way cosign signs), attested as
 * asked. A bundle names no repository, so it does not excuse a signature by the key for another.
 */
export function verdictOk(verdict: ManifestVerdict): boolean {
  const signed = verdict.signature === 'ok' || (verdict.bundle === 'ok' && verdict.signature !== 'other-image');
  return signed && (verdict.provenance ?? 'ok') === 'ok' && (verdict.sbom ?? 'ok') === 'ok';
}

type ReferrerDescriptor = Descriptor & { artifactType?: string };

/** The one payload of each referrer `wanted` picks, read (its digest checked on the way in). */
async function referrerPayloads(
  store: ImageStore,
  digest: string,
  wanted: (referrer: ReferrerDescriptor) => boolean,
): Promise<Buffer[]> {
  const referrers = (await store.referrers(digest)) as ReferrerDescriptor[];
  const payloads: Buffer[] = [];
  for (const referrer of referrers.filter((item) => isSha256Digest(item?.digest) && wanted(item))) {
    // One referrer that is gone, too big or damaged hides no other: it is only not a signature.
    const manifest = await readable(store.manifest(referrer.digest, MANIFEST_TYPES));
    const layers = (manifest && (jsonOf(manifest.bytes) as { layers?: unknown } | undefined))?.layers;
    const layer = Array.isArray(layers) ? (layers[0] as Descriptor | null | undefined) : undefined;
    const payload = isSha256Digest(layer?.digest) ? await readable(store.blob(layer.digest, MAX_DOCUMENT)) : undefined;
    if (payload) payloads.push(payload);
  }
  return payloads;
}

/** What a registry read gave, or undefined where the registry had it wrong (missing, damaged, too big). */
async function readable<T>(reading: Promise<T>): Promise<T | undefined> {
  return reading.catch((error: unknown) => {
    if (error instanceof GociError && REGISTRY_CONTENT_FAILURES.includes(error.code)) return undefined;
    throw error;
  });
}

const REGISTRY_CONTENT_FAILURES = [
  'REGISTRY_PROTOCOL',
  'REGISTRY_NOT_FOUND',
  'NOT_FOUND',
  'DIGEST_MISMATCH',
  'BAD_ARGUMENT',
];

interface Envelope {
  payloadType?: string;
  payload?: string;
  signatures?: { sig?: string }[];
}

/**
 * The in-toto statement a DSSE envelope carries when the key signed it as one (its payload type
 * and the statement's own `_type` both say in-toto); undefined otherwise. A signature by the key
 * over any other payload type is not a statement, whatever its bytes look like.
 */
function statementSignedBy(envelope: Envelope | undefined, key: VerificationKey): InTotoSubjects | undefined {
  if (typeof envelope?.payload !== 'string' || envelope.payloadType !== IN_TOTO_PAYLOAD_TYPE) return undefined;
  const payload = Buffer.from(envelope.payload, 'base64');
  const pae = preAuthenticationEncoding(envelope.payloadType, payload);
  const signatures = Array.isArray(envelope.signatures) ? envelope.signatures : [];
  if (!signatures.some((signature) => typeof signature?.sig === 'string' && key.signed(pae, signature.sig)))
    return undefined;
  const statement = jsonOf(payload) as InTotoSubjects | undefined;
  return statement?._type === IN_TOTO_STATEMENT_V1 ? statement : undefined;
}

/** A document read from a registry, parsed; undefined when it is not JSON (anyone with push rights can put junk). */
function jsonOf(bytes: Buffer): unknown {
  try {
    return JSON.parse(bytes.toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}

interface InTotoSubjects extends Record<string, unknown> {
  _type?: string;
  predicateType?: string;
  subject?: { digest?: { sha256?: string } }[];
}

function isAbout(statement: InTotoSubjects, digest: string): boolean {
  const subjects = Array.isArray(statement.subject) ? statement.subject : [];
  return subjects.some((subject) => `sha256:${subject?.digest?.sha256}` === digest);
}

/** A Sigstore bundle referrer whose DSSE statement the key signed, stating cosign's signature of exactly `digest`. */
export async function bundleVerdict(
  store: ImageStore,
  digest: string,
  key: VerificationKey,
): Promise<SignatureVerdict> {
  let found: SignatureVerdict = 'missing';
  // A registry that cannot list referrers has no bundle to show; its `.sig` signatures still count.
  const bundles = await referrerPayloads(
    store,
    digest,
    (item) => item.artifactType === SIGSTORE_BUNDLE_MEDIA_TYPE,
  ).catch((error: unknown) => {
    if (error instanceof GociError && REGISTRY_CONTENT_FAILURES.includes(error.code)) return [];
    throw error;
  });
  for (const bytes of bundles) {
    const bundle = jsonOf(bytes) as { dsseEnvelope?: Envelope } | undefined;
    const statement = statementSignedBy(bundle?.dsseEnvelope, key);
    if (!statement) {
      if (found === 'missing') found = 'not-by-this-key';
      continue;
    }
    if (statement.predicateType === COSIGN_SIGN_PREDICATE && isAbout(statement, digest)) return 'ok';
    found = 'other-image';
  }
  return found;
}

/** A DSSE attestation of one of `predicateTypes` about exactly `digest`, signed by the key. */
async function attestationVerdict(
  store: ImageStore,
  digest: string,
  key: VerificationKey,
  predicateTypes: string[],
): Promise<{ verdict: AttestationVerdict; statement?: Record<string, unknown> }> {
  let found: AttestationVerdict = 'missing';
  const envelopes = await referrerPayloads(
    store,
    digest,
    (item) =>
      item.artifactType === DSSE_MEDIA_TYPE &&
      predicateTypes.includes(item.annotations?.['dev.goci.predicate-type'] ?? ''),
  );
  for (const bytes of envelopes) {
    const statement = statementSignedBy(jsonOf(bytes) as Envelope | undefined, key);
    if (!statement) {
      found = 'unsigned';
      continue;
    }
    if (isAbout(statement, digest)) return { verdict: 'ok', statement };
    found = 'other-image';
  }
  return { verdict: found };
}
