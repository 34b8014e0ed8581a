import { GociError } from '../common/errors.js';
import { found } from '../common/found.js';
import { inspectBinary } from '../compiler/binary/inspect.js';
import type { BinaryReport } from '../compiler/binary/types.js';
import type { CompiledBinary } from '../compiler/compile.js';
import { installedBinaryName } from '../compiler/naming.js';
import type { Target } from '../compiler/plan.js';
import { formatPlatform } from '../compiler/platform.js';
import type { Platform } from '../oci/platform.js';
import { fieldLocation } from '../spec/load.js';
import type { ImageSpec, Spec } from '../spec/schema.js';
import type { AssemblyRequest, ImageBase, PlatformImageInput } from './assemble.js';
import type { LayerEntry } from './layer.js';
import { imageLabels, imageRuntime } from './image-runtime.js';
import type { ImageFormat } from '../oci/media-types.js';

/** One compiled binary with the target it came from. */
export interface BuiltTarget {
  target: Target;
  binary: CompiledBinary;
}

export interface ImagePlanInput {
  spec: Spec;
  image: ImageSpec;
  built: BuiltTarget[];
  base: ImageBase;
  /** `image.files` as layer entries, resolved beforehand (see extraFileEntries). */
  fileEntries: LayerEntry[];
  format: ImageFormat;
  layoutDir: string;
}

/** The entrypoint binary of one platform image, as an SBOM describes it. */
export interface EntrypointBinary {
  report: BinaryReport;
  sha256: string;
}

/** The assembly request plus the names a sink tags the result with. */
export interface ImagePlan {
  request: AssemblyRequest;
  repository: string;
  entrypoint: string;
  platforms: Platform[];
  /** Per platform, in the order of `platforms`. */
  entrypoints: EntrypointBinary[];
}

export async function planImage(input: ImagePlanInput): Promise<ImagePlan> {
  const { spec, image } = input;
  const where = (path: string): string => fieldLocation(spec, path);
  const builds = selectBuilds(input.built, image, where);
  const entrypointBuild = pickEntrypoint(builds, image, where);
  const platforms = platformsOf(input.built.filter((built) => built.target.buildId === entrypointBuild));
  const stamp = input.built[0]!.target.stamp;
  const perPlatform: PlatformImageInput[] = [];
  const entrypoints: EntrypointBinary[] = [];
  for (const platform of platforms) {
    const binaries = builds.map((buildId) => binaryFor(input.built, buildId, platform, where));
    const entrypoint = found(
      binaries.find((built) => built.target.buildId === entrypointBuild),
      `the entrypoint binary (build "${entrypointBuild}") for ${formatPlatform(platform)}`,
    );
    const report = await inspectBinary(entrypoint.binary.path);
    entrypoints.push({ report, sha256: entrypoint.binary.sha256 });
    const labels = imageLabels(report, stamp, entrypoint.target.binary, image.labels);
    const binaryEntries: LayerEntry[] = binaries.map((built) => ({
      type: 'file',
      path: `${image.binaryDir}/${installedBinaryName(built.target.binary, platform)}`,
      mode: 0o755,
      uid: 0,
      gid: 0,
      source: built.binary.path,
    }));
    perPlatform.push({
      platform,
      binaryEntries,
      binaryCacheKey: `binaries ${JSON.stringify(binaryEntries.map((entry, position) => [entry.path, 0o755, 0, 0, binaries[position]!.binary.sha256]))}`,
      labels,
      annotations: { ...labels, ...image.annotations },
    });
  }
  const entrypointTarget = found(
    input.built.find((built) => built.target.buildId === entrypointBuild),
    `a compiled binary of the entrypoint build "${entrypointBuild}"`,
  ).target;
  return {
    request: {
      layoutDir: input.layoutDir,
      format: input.format,
      base: input.base,
      fileEntries: input.fileEntries,
      runtime: imageRuntime(image, input.base, entrypointTarget.binary),
      epoch: stamp.epoch,
      indexAnnotations: perPlatform[0]?.annotations ?? {},
      platforms: perPlatform,
    },
    repository: image.repository ?? entrypointTarget.binary,
    entrypoint: entrypointTarget.binary,
    platforms,
    entrypoints,
  };
}

function selectBuilds(built: BuiltTarget[], image: ImageSpec, where: (path: string) => string): string[] {
  const all = [...new Set(built.map((item) => item.target.buildId))];
  if (!image.binaries) return all;
  return image.binaries.map((name, index) => {
    const match = built.find((item) => item.target.buildId === name || item.target.binary === name);
    if (!match)
      throw new GociError(
        'BAD_SPEC',
        `${where(`image.binaries[${index}]`)}: no build is called "${name}"; builds are ${all.join(', ')}`,
      );
    return match.target.buildId;
  });
}

function pickEntrypoint(builds: string[], image: ImageSpec, where: (path: string) => string): string {
  if (!image.entrypoint) return builds[0]!;
  if (builds.includes(image.entrypoint)) return image.entrypoint;
  throw new GociError(
    'BAD_SPEC',
    `${where('image.entrypoint')}: "${image.entrypoint}" is not one of the image's binaries (${builds.join(', ')})`,
  );
}

function platformsOf(built: BuiltTarget[]): Platform[] {
  const linux = built.map((item) => item.target.platform).filter((platform) => platform.os === 'linux');
  if (linux.length === 0)
    throw new GociError('BAD_PLATFORM', 'no linux platform to build an image for', {
      hint: 'add a linux/... platform (container images run Linux binaries)',
    });
  return linux;
}

function binaryFor(
  built: BuiltTarget[],
  buildId: string,
  platform: Platform,
  where: (path: string) => string,
): BuiltTarget {
  const match = built.find(
    (item) => item.target.buildId === buildId && formatPlatform(item.target.platform) === formatPlatform(platform),
  );
  if (!match) {
    throw new GociError(
      'BAD_SPEC',
      `${where('image.binaries')}: build "${buildId}" has no ${formatPlatform(platform)} binary, so that image would be incomplete`,
      {
        hint: 'give every build in the image the same platforms',
      },
    );
  }
  return match;
}
