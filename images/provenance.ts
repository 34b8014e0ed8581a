import { GOCI_VERSION } from '../common/goci-version.js';
import type { BinaryReport, Module } from '../compiler/binary/types.js';
import { goRelease } from '../compiler/go-release.js';
import type { Stamp } from '../compiler/version.js';
import type { JsonBlob } from '../oci/descriptor.js';
import { inTotoStatement } from './in-toto.js';
import { rfc3339 } from '../oci/image-config.js';
import { golangPurl } from './sbom/purl.js';

export const SLSA_PROVENANCE_V1 = 'https://slsa.dev/provenance/v1';
/** What kind of build this is: goci's, whose parameters below say how to run it again. */
export const GOCI_BUILD_TYPE = 'https://goci.dev/provenance/build/v1';

export interface ProvenanceInput {
  platform: string;
  /** goci.yaml as the build named it, relative to its directory. */
  specFile: string;
  /** The goci.yaml's directory, relative to the repository's top: where a rebuild runs. */
  directory: string;
  /** The image flags the build was given (labels, base, user…): a rebuild gives them again. */
  imageFlags: Record<string, unknown>;
  stamp: Stamp;
  /** The entrypoint binary: its Go version and modules come from its own build info. */
  binary: BinaryReport;
  base: ProvenanceBase;
  sbom: string;
  /** Who built: the CLI (which compressed the layers) or the BuildKit frontend (BuildKit did). */
  builder: ProvenanceBuilder;
}

/** How provenance names a base: a registry image by its reference and digest, goci's own by URI. */
export interface ProvenanceBase {
  name: string;
  digest: string | undefined;
}

export function provenanceBase(
  registryBase: { name: string; digest: string } | undefined,
  builtIn: string | undefined,
) {
  return registryBase ?? { name: `https://goci.dev/base/${builtIn ?? 'scratch'}`, digest: undefined };
}

export type ProvenanceBuilder =
  /** With the Node and zlib versions and the settings that fix the compressed bytes. */
  | { kind: 'cli'; compression: Record<string, string | number> }
  /** With the build args goci read, which a rebuild gives again. */
  | { kind: 'frontend'; buildArgs: Record<string, string> };

interface ResourceDescriptor {
  uri: string;
  digest?: Record<string, string>;
  name?: string;
  annotations?: Record<string, string>;
}

/**
 * The SLSA v1 provenance statement of one platform image: what was built (`manifestDigest`,
 * under `name`), and the predicate below.
 */
export function provenanceStatement(name: string, manifestDigest: string, input: ProvenanceInput): JsonBlob {
  return inTotoStatement(name, manifestDigest, SLSA_PROVENANCE_V1, provenancePredicate(input));
}

/**
 * The SLSA v1 provenance predicate of one platform image: from what (the commit, the Go
 * toolchain, the base, every module the binary's build info records), how (goci.yaml,
 * platform, version, SBOM format) and by what (goci, and for the CLI Node, zlib and the
 * compression that fixes the bytes). Nothing in it depends on the clock: the same build, the
 * same predicate.
 */
export function provenancePredicate(input: ProvenanceInput): Record<string, unknown> {
  const info = input.binary.buildInfo;
  const dependencies: ResourceDescriptor[] = [];
  if (input.stamp.commit)
    dependencies.push({
      uri: input.stamp.sourceUrl ? `git+${input.stamp.sourceUrl}` : 'git',
      digest: { gitCommit: input.stamp.commit },
      name: 'source',
    });
  if (info)
    dependencies.push({
      uri: golangPurl('stdlib', goRelease(info.goVersion)),
      name: 'go',
      annotations: { goVersion: info.goVersion },
    });
  dependencies.push({
    uri: input.base.name,
    name: 'base',
    ...(input.base.digest ? { digest: { sha256: input.base.digest.replace(/^sha256:/, '') } } : {}),
  });
  dependencies.push(...(info?.deps ?? []).map(moduleDependency));
  const { builder } = input;
  return {
    buildDefinition: {
      buildType: GOCI_BUILD_TYPE,
      externalParameters: {
        config: input.specFile,
        directory: input.directory,
        imageFlags: input.imageFlags,
        platform: input.platform,
        version: input.stamp.version,
        sbom: input.sbom,
        ...(info ? { mainPackage: info.path } : {}),
        ...(builder.kind === 'frontend' ? { buildArgs: builder.buildArgs } : {}),
      },
      internalParameters: {
        sourceDateEpoch: input.stamp.epoch,
        ...(builder.kind === 'cli' ? { compression: builder.compression } : { compression: 'by BuildKit' }),
      },
      resolvedDependencies: dependencies,
    },
    runDetails: {
      builder:
        builder.kind === 'cli'
          ? {
              id: `https://goci.dev/cli@${GOCI_VERSION}`,
              version: { goci: GOCI_VERSION, node: process.versions.node, zlib: process.versions.zlib ?? '' },
            }
          : { id: `https://goci.dev/frontend@${GOCI_VERSION}`, version: { goci: GOCI_VERSION } },
      metadata: { finishedOn: rfc3339(input.stamp.epoch) },
    },
  };
}

/** A module the binary's build info records, by the package URL the SBOM uses; a replacement says what it replaces. */
function moduleDependency(dep: Module): ResourceDescriptor {
  // A directory replacement (`=> ./local`) is the module's own path, built from that directory.
  const directory = dep.replace && /^(\.{1,2})?\//.test(dep.replace.path) ? dep.replace.path : undefined;
  const used = directory === undefined ? (dep.replace ?? dep) : { path: dep.path, version: '' };
  const annotations: Record<string, string> = {};
  if (used.sum) annotations.h1 = used.sum;
  if (directory !== undefined) annotations.directory = directory;
  if (dep.replace) annotations.replaces = `${dep.path}@${dep.version}`;
  return {
    uri: golangPurl(used.path, used.version || undefined),
    ...(Object.keys(annotations).length > 0 ? { annotations } : {}),
  };
}
