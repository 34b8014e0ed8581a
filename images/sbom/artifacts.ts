import { artifactFor, type Artifact } from '../../oci/artifact.js';
import { jsonBlob } from '../../oci/descriptor.js';
import { rfc3339 } from '../../oci/image-config.js';
import type { EntrypointBinary } from '../image-plan.js';
import type { ImageManifest } from '../../oci/manifest.js';
import { cyclonedxDocument } from './cyclonedx.js';
import { spdxDocument } from './spdx.js';

export type SbomFormat = 'spdx' | 'cyclonedx';

export const SBOM_ARTIFACT_TYPES: Record<SbomFormat, string> = {
  spdx: 'application/spdx+json',
  cyclonedx: 'application/vnd.cyclonedx+json',
};

/** The goci version written into SBOMs as their creating tool. */
export const GOCI_VERSION = '0.1.0';

/**
 * One SBOM artifact per platform image, describing that image's entrypoint binary from its own
 * build info, with the image manifest as its subject. Same binaries, same bytes.
 */
export function sbomArtifacts(
  format: SbomFormat,
  name: string,
  images: ImageManifest[],
  binaries: EntrypointBinary[],
  epoch: number,
): Artifact[] {
  return images.map((image, index) => {
    const binary = binaries[index]!;
    const input = {
      name,
      binary: binary.report,
      binarySha256: binary.sha256,
      platform: image.platform,
      epoch,
      gociVersion: GOCI_VERSION,
    };
    const document = format === 'spdx' ? spdxDocument(input) : cyclonedxDocument(input);
    return artifactFor(image.descriptor, SBOM_ARTIFACT_TYPES[format], jsonBlob(document), {
      'org.opencontainers.image.created': rfc3339(epoch),
    });
  });
}
