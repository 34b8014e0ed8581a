import { GociError } from '../common/errors.js';
import { found } from '../common/found.js';
import type { BinaryReport, Module } from '../compiler/binary/types.js';
import type { Binary } from '../compiler/checked-binary.js';
import { installedBinaryName } from '../compiler/naming.js';
import { formatPlatform } from '../compiler/platform.js';
import type { Platform } from '../oci/platform.js';
import { fieldLocation } from '../spec/load.js';
import type { ImageSpec, Spec } from '../spec/schema.js';
import { entrypointBuildId, imageBuildIds, imageRepository } from '../spec/image-builds.js';
import type { RuntimeConfig } from '../oci/image-config.js';
import { fileEntries, type FoundFile, type PlannedEntry, type PlannedFile } from './file-entries.js';
import { imageLabels, imageRuntime, type BaseRuntime } from './image-runtime.js';

export interface ImagePlanInput<S> {
  spec: Spec;
  /** The spec's image section, after any flags. */
  image: ImageSpec;
  /** Every built binary of the spec, each checked and knowing its Target. */
  binaries: Binary<S>[];
  /** What the base brings to the runtime config (its own files are the door's to write). */
  base: BaseRuntime;
  /** What the door found at each `image.files` source, in the order of `image.files`. */
  files: FoundFile<S>[][];
}

/** The entrypoint binary of one platform image, as an SBOM describes it. */
export interface EntrypointBinary {
  report: BinaryReport;
  sha256: string;
  /** GOPATH mode: what vendor.conf pins (for the SBOM). */
  vendored?: Module[] | undefined;
}

/** One platform's image: its binaries layer and what its binaries put in the config. */
export interface PlatformPlan<S> {
  platform: Platform;
  /** The binaries layer, in image.binaries order. */
  binaryEntries: PlannedFile<S>[];
  /** The binaries of binaryEntries, position for position. */
  binaries: Binary<S>[];
  /** Labels from the entrypoint's build info, merged under the user's. */
  labels: Record<string, string>;
  annotations: Record<string, string>;
  entrypoint: EntrypointBinary;
}

/**
 * What an image holds, decided once for both doors: the base layer (the door's), then the
 * `image.files` layer (fileEntries, the same for every platform), then per platform the binaries
 * layer; the runtime config and labels. The CLI writes the entries as tar layers, the frontend
 * as one FileOp per layer.
 */
export interface ImagePlan<S> {
  repository: string;
  /** The entrypoint's binary name. */
  entrypoint: string;
  fileEntries: PlannedEntry<S>[];
  runtime: Omit<RuntimeConfig, 'labels'>;
  epoch: number;
  indexAnnotations: Record<string, string>;
  /** One per linux platform of the entrypoint build, in target order. */
  platforms: PlatformPlan<S>[];
}

export function planImage<S>(input: ImagePlanInput<S>): ImagePlan<S> {
  const { spec, image } = input;
  const where = (path: string): string => fieldLocation(spec, path);
  const runtimeUser = image.user ?? input.base.user;
  const files = fileEntries(image, input.files, where, runtimeUser);
  const builds = imageBuildIds(spec, image);
  const entrypointBuild = entrypointBuildId(spec, image);
  const entrypointTarget = found(
    input.binaries.find((built) => built.target.buildId === entrypointBuild),
    `a compiled binary of the entrypoint build "${entrypointBuild}"`,
  ).target;
  const stamp = entrypointTarget.stamp;
  const platforms = platformsOf(input.binaries.filter((built) => built.target.buildId === entrypointBuild)).map(
    (platform): PlatformPlan<S> => {
      const binaries = builds.map((buildId) =>
        binaryFor(input.binaries, buildId, platform, where(`${image.path}.binaries`)),
      );
      const entrypoint = found(
        binaries.find((built) => built.target.buildId === entrypointBuild),
        `the entrypoint binary (build "${entrypointBuild}") for ${formatPlatform(platform)}`,
      );
      const labels = imageLabels(entrypoint.report, stamp, entrypoint.target.binary, image.labels);
      return {
        platform,
        binaryEntries: binaries.map((built) => ({
          type: 'file',
          path: `${image.binaryDir}/${installedBinaryName(built.target.binary, platform)}`,
          mode: 0o755,
          uid: 0,
          gid: 0,
          source: built.source,
        })),
        binaries,
        labels,
        annotations: { ...labels, ...image.annotations },
        entrypoint: {
          report: entrypoint.report,
          sha256: entrypoint.sha256,
          ...(entrypoint.target.vendored ? { vendored: entrypoint.target.vendored } : {}),
        },
      };
    },
  );
  return {
    repository: imageRepository(image, entrypointTarget.binary),
    entrypoint: entrypointTarget.binary,
    fileEntries: files,
    runtime: imageRuntime(image, input.base, entrypointTarget.binary),
    epoch: stamp.epoch,
    indexAnnotations: platforms[0]?.annotations ?? {},
    platforms,
  };
}

function platformsOf<S>(built: Binary<S>[]): Platform[] {
  const linux = built.map((item) => item.target.platform).filter((platform) => platform.os === 'linux');
  if (linux.length === 0)
    throw new GociError('BAD_PLATFORM', 'no linux platform to build an image for', {
      hint: 'add a linux/... platform (container images run Linux binaries)',
    });
  return linux;
}

function binaryFor<S>(built: Binary<S>[], buildId: string, platform: Platform, binariesField: string): Binary<S> {
  const match = built.find(
    (item) => item.target.buildId === buildId && formatPlatform(item.target.platform) === formatPlatform(platform),
  );
  if (!match) {
    throw new GociError(
      'BAD_SPEC',
      `${binariesField}: build "${buildId}" has no ${formatPlatform(platform)} binary, so that image would be incomplete`,
      {
        hint: 'give every build in the image the same platforms',
      },
    );
  }
  return match;
}
