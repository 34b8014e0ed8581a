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
 * One platform image's SBOM as an in-toto attestation: the CLI's document (sbomDocument) written
 * into a small scratch filesystem that BuildKit solves, pointed to by path. No subject is given,
 * so BuildKit makes the image of that platform its subject. The `sbom-core` metadata is left
 * out: with it BuildKit would rewrite the document (adding a creator and file comments).
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
  const path = SBOM_PATHS[format];
  const file = fileOp(
    undefined,
    [{ kind: 'mkfile', path, mode: 0o644, data: document.bytes, timestamp: epoch }],
    `[goci] SBOM for ${formatPlatform(platform)}`,
  );
  const ref = await gateway.solve(definition(file));
  return create(AttestationSchema, {
    kind: AttestationKind.InToto,
    metadata: { reason: new TextEncoder().encode('sbom') },
    ref: { id: ref },
    path,
    inTotoPredicateType: SBOM_PREDICATE_TYPES[format],
  });
}
