import { GOCI_VERSION } from '../../common/goci-version.js';
import { artifactFor, type Artifact } from '../../oci/artifact.js';
import type { BinaryReport, Module } from '../../compiler/binary/types.js';
import { jsonBlob, type JsonBlob, type OciPlatform } from '../../oci/descriptor.js';
import { rfc3339 } from '../../oci/image-config.js';
import type { ImageManifest } from '../../oci/manifest.js';
import { cyclonedxDocument } from './cyclonedx.js';
import { spdxDocument } from './spdx.js';

export type SbomFormat = 'spdx' | 'cyclonedx';

/** The in-toto predicate type of each SBOM format, as BuildKit and in-toto name them. */
export const SBOM_PREDICATE_TYPES: Record<SbomFormat, string> = {
  spdx: 'https://spdx.dev/Document',
  cyclonedx: 'https://cyclonedx.org/bom',
};

export const SBOM_ARTIFACT_TYPES: Record<SbomFormat, string> = {
  spdx: 'application/spdx+json',
  cyclonedx: 'application/vnd.cyclonedx+json',
};

/** The binary an SBOM describes: its report (with Go build info) and the sha256 of its bytes. */
export interface SbomBinary {
  report: BinaryReport;
  sha256: string;
  /** GOPATH mode: what vendor.conf pins. */
  vendored?: Module[] | undefined;
}

/**
 * The SBOM document of one platform image: its entrypoint binary, described from its own build
 * info under `name`. The CLI attaches it as an OCI artifact, the BuildKit frontend returns it as
 * an in-toto attestation; both make it here, so the same binary and name give the same bytes.
 */
export function sbomDocument(
  format: SbomFormat,
  name: string,
  platform: OciPlatform,
  binary: SbomBinary,
  epoch: number,
): JsonBlob {
  const input = {
    name,
    binary: binary.report,
    binarySha256: binary.sha256,
    platform,
    epoch,
    gociVersion: GOCI_VERSION,
    ...(binary.vendored ? { vendored: binary.vendored } : {}),
  };
  return jsonBlob(format === 'spdx' ? spdxDocument(input) : cyclonedxDocument(input));
}

/**
 * One SBOM artifact per platform image, describing that image's entrypoint binary from its own
 * build info, with the image manifest as its subject. Same binaries, same bytes.
 */
export function sbomArtifacts(
  format: SbomFormat,
  name: string,
  images: ImageManifest[],
  binaries: SbomBinary[],
  epoch: number,
): Artifact[] {
  return images.map((image, index) =>
    artifactFor(
      image.descriptor,
      SBOM_ARTIFACT_TYPES[format],
      sbomDocument(format, name, image.platform, binaries[index]!, epoch),
      { 'org.opencontainers.image.created': rfc3339(epoch) },
    ),
  );
}
