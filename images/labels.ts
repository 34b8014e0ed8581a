import type { BinaryReport } from '../compiler/binary/types.js';
import type { Stamp } from '../compiler/version.js';
import { rfc3339 } from '../oci/image-config.js';

/** goci's own label namespace (reverse DNS of goci.dev). */
export const GOCI_LABEL_PREFIX = 'dev.goci';
export const LABEL_GO_VERSION = `${GOCI_LABEL_PREFIX}.go.version`;
export const LABEL_GO_MODULE = `${GOCI_LABEL_PREFIX}.go.module`;

export interface MetadataInput {
  /** The entrypoint binary as goci inspect reads it: labels must agree with it. */
  binary: BinaryReport;
  stamp: Stamp;
  title: string;
  sourceUrl: string | undefined;
}

/**
 * Labels describing what is inside, taken from the binary's own build info where it has the
 * fact (Go version, module, VCS revision) and from the stamp otherwise, so `goci inspect` of
 * the binary and the image's labels never disagree.
 */
export function metadataLabels(input: MetadataInput): Record<string, string> {
  const info = input.binary.buildInfo;
  const revision = info?.settings.find((setting) => setting.key === 'vcs.revision')?.value ?? input.stamp.commit;
  const labels: Record<string, string> = {
    'org.opencontainers.image.created': rfc3339(input.stamp.epoch),
    'org.opencontainers.image.title': input.title,
    'org.opencontainers.image.version': input.stamp.version,
  };
  if (revision) labels['org.opencontainers.image.revision'] = revision;
  if (input.sourceUrl) labels['org.opencontainers.image.source'] = input.sourceUrl;
  if (info) {
    labels[LABEL_GO_VERSION] = info.goVersion;
    // GOPATH mode records a package path and no module: no module label then, rather than a false one.
    if (info.main) labels[LABEL_GO_MODULE] = info.main.path;
  }
  return labels;
}
