import { create } from '@bufbuild/protobuf';
import { GociError } from '../common/errors.js';
import { formatPlatform } from '../compiler/platform.js';
import type { Platform } from '../oci/platform.js';
import { ociPlatform } from '../oci/platform.js';
import {
  SBOM_ARTIFACT_TYPES,
  sbomDocument,
  type SbomBinary,
  type SbomFormat,
  SBOM_PREDICATE_TYPES,
} from '../images/sbom/artifacts.js';
import { jsonBlob } from '../oci/descriptor.js';
import { versionTag } from '../registry/tags.js';
import type { Gateway } from './gateway.js';
import { AttestationKind, AttestationSchema, type Attestation } from './gen/gateway_pb.js';
import { fileOp } from './llb/file.js';
import { definition } from './llb/vertex.js';

/** BuildKit's capability for attestations in a frontend's result (BuildKit >= 0.11). */
export const ATTESTATIONS_CAP = 'reference.attestations';

/** Where the document lies in the ref the attestation points to. */
const SBOM_PATHS: Record<SbomFormat, string> = { spdx: '/goci.spdx.json', cyclonedx: '/goci.cdx.json' };

/** Build arg SBOM, as `goci build --sbom`: spdx (the default), cyclonedx or none. */
export function sbomFormatArg(args: Record<string, string>): SbomFormat | undefined {
  const value = args.SBOM || 'spdx';
  if (value === 'none') return undefined;
  if (value in SBOM_ARTIFACT_TYPES) return value as SbomFormat;
  throw new GociError('BAD_ARGUMENT', `build arg SBOM: "${value}" is not an SBOM format`, {
    hint: `use ${[...Object.keys(SBOM_ARTIFACT_TYPES), 'none'].join(', ')}`,
  });
}

/**
 * The name an SBOM describes the image under. BuildKit does not tell a frontend the name it
 * exports to, so this is the name `goci build` gives an image it does not push: the repository
 * (image.repository, else the entrypoint binary) and the version as a tag.
 */
export function sbomSubjectName(repository: string, version: string): string {
  return `${repository}:${versionTag(version)}`;
}

/**
 * One platform image's SBOM as an in-toto attestation: the CLI's document (sbomDocument). The
 * `sbom-core` metadata is left out: with it BuildKit would rewrite the document (adding a
 * creator and file comments).
 */
export async function sbomAttestation(
  gateway: Gateway,
  format: SbomFormat,
  name: string,
  platform: Platform,
  binary: SbomBinary,
  epoch: number,
): Promise<Attestation> {
  const document = sbomDocument(format, name, ociPlatform(platform), binary, epoch);
  const label = `[goci] SBOM for ${formatPlatform(platform)}`;
  return inTotoAttestation(
    gateway,
    SBOM_PATHS[format],
    document.bytes,
    SBOM_PREDICATE_TYPES[format],
    'sbom',
    label,
    epoch,
  );
}

/** Build arg PROVENANCE, as `goci build --provenance`: true attaches goci's provenance to each platform image. */
export function provenanceArg(args: Record<string, string>): boolean {
  const value = args.PROVENANCE || 'false';
  if (value === 'true' || value === 'false') return value === 'true';
  throw new GociError('BAD_ARGUMENT', `build arg PROVENANCE: "${value}" is neither true nor false`, {
    hint: 'use --build-arg PROVENANCE=true (or leave it out)',
  });
}

/** The build args goci reads: what a provenance records, and nothing else a build was given. */
const GOCI_BUILD_ARGS = [
  'BASE',
  'GO_IMAGE',
  'PROVENANCE',
  'REVISION',
  'SBOM',
  'SOURCE_DATE_EPOCH',
  'SOURCE_URL',
  'VERSION',
];

/** The build args a provenance records: goci's own, as given. */
export function recordedBuildArgs(args: Record<string, string>): Record<string, string> {
  return Object.fromEntries(GOCI_BUILD_ARGS.flatMap((name) => (args[name] ? [[name, args[name]]] : [])));
}

/**
 * The predicate type goci's provenance travels under in a frontend's result: BuildKit refuses
 * any `https://slsa.dev/provenance/` type from a frontend (it writes SLSA provenance itself, on
 * `--attest type=provenance`), so the same SLSA v1 predicate is typed as goci's.
 */
export const FRONTEND_PROVENANCE_TYPE = 'https://goci.dev/provenance/slsa-v1';

/** The CLI's SLSA v1 provenance predicate of one platform image (provenancePredicate) as an in-toto attestation. */
export async function provenanceAttestation(
  gateway: Gateway,
  predicate: Record<string, unknown>,
  platform: Platform,
  epoch: number,
): Promise<Attestation> {
  const label = `[goci] provenance for ${formatPlatform(platform)}`;
  const bytes = jsonBlob(predicate).bytes;
  return inTotoAttestation(
    gateway,
    '/goci.provenance.json',
    bytes,
    FRONTEND_PROVENANCE_TYPE,
    'provenance',
    label,
    epoch,
  );
}

/**
 * A document written into a small scratch filesystem that BuildKit solves, pointed to by path
 * as an in-toto predicate of `predicateType`. No subject is given, so BuildKit makes the image
 * of the platform whose result carries it the subject.
 */
async function inTotoAttestation(
  gateway: Gateway,
  path: string,
  data: Uint8Array,
  predicateType: string,
  reason: string,
  label: string,
  epoch: number,
): Promise<Attestation> {
  const file = fileOp(undefined, [{ kind: 'mkfile', path, mode: 0o644, data, timestamp: epoch }], label);
  const ref = await gateway.solve(definition(file));
  return create(AttestationSchema, {
    kind: AttestationKind.InToto,
    metadata: { reason: new TextEncoder().encode(reason) },
    ref: { id: ref },
    path,
    inTotoPredicateType: predicateType,
  });
}
