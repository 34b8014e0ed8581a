import { join, resolve } from 'node:path';
import { Command } from 'commander';
import { displayPath } from '../../common/display-path.js';
import { GociError } from '../../common/errors.js';
import { formatPlatform, hostLinuxPlatform, parsePlatform, type Platform } from '../../compiler/platform.js';
import { assembleImages, type AssembledImages } from '../../images/assemble.js';
import { resolveBase } from '../../images/base/resolve.js';
import { planImage, type BuiltTarget, type ImagePlan } from '../../images/image-plan.js';
import { MEDIA_TYPES } from '../../images/media-types.js';
import { tagInLayout } from '../../images/oci-layout.js';
import type { Spec } from '../../spec/schema.js';
import { addBuildOptions, distDir, type BuildFlags } from '../build-options.js';
import { addImageOptions, applyImageFlags, tagsFor, type ImageFlags } from '../image-options.js';
import { formatSize, renderTable } from '../table.js';
import { planAndCompile } from './compile.js';

/** What `goci build` reports per image, as --json prints it. */
export interface BuiltImage {
  repository: string;
  tags: string[];
  index: { digest: string; size: number };
  platforms: { platform: string; digest: string; size: number }[];
  ociLayout: string;
}

export function buildCommand(): Command {
  return addImageOptions(addBuildOptions(new Command('build')))
    .description('compile, then assemble a multi-arch image (no Docker needed) into an OCI layout; optionally a tarball or the local daemon')
    .argument('[dirs...]', 'directories of Go main packages (or of a goci.yaml); default: the current directory')
    .action(async (dirs: string[], flags: BuildFlags & ImageFlags) => {
      const { plan, binaries } = await planAndCompile(dirs, flags);
      if (!binaries) return;
      const built: BuiltTarget[] = binaries.map((binary) => ({ binary, target: plan.targets.find((target) => target.buildId === binary.build && formatPlatform(target.platform) === binary.platform)! }));
      const results: BuiltImage[] = [];
      for (const spec of [...new Set(plan.targets.map((target) => target.spec))]) {
        results.push(await buildImage(spec, built.filter((item) => item.target.spec === spec), flags));
      }
      process.stdout.write(flags.json ? `${JSON.stringify({ images: results }, null, 2)}\n` : results.map(describeImage).join('\n'));
    });
}

async function buildImage(spec: Spec, built: BuiltTarget[], flags: BuildFlags & ImageFlags): Promise<BuiltImage> {
  const image = applyImageFlags(spec.image, flags);
  const layoutDir = resolve(flags.ociLayout ?? join(distDir(flags), 'oci'));
  const base = await resolveBase(image.base, flags.base ? '--base' : 'image.base');
  const plan = await planImage({ spec, image, built, base, format: flags.format, layoutDir });
  const tags = tagsFor(built[0]!.target.stamp.version, flags);
  const loadPlatform = chooseLoadPlatform(plan, flags.loadPlatform);
  const assembled = await assembleImages(plan.request);
  const indexDescriptor = { mediaType: MEDIA_TYPES[flags.format].index, digest: assembled.index.digest, size: assembled.index.size };
  for (const tag of tags) await tagInLayout(layoutDir, indexDescriptor, tag);
  await exportToDocker(plan, assembled, layoutDir, tags, loadPlatform, flags);
  return {
    repository: plan.repository,
    tags,
    index: { digest: assembled.index.digest, size: assembled.index.size },
    platforms: assembled.images.map((item, index) => ({
      platform: formatPlatform(plan.platforms[index]!),
      digest: item.manifest.digest,
      size: item.manifest.size + item.config.size + item.layers.reduce((sum, layer) => sum + layer.size, 0),
    })),
    ociLayout: layoutDir,
  };
}

function chooseLoadPlatform(plan: ImagePlan, requested: string | undefined): Platform {
  const wanted = requested ? parsePlatform(requested, '--load-platform') : hostLinuxPlatform();
  const match = plan.platforms.find((platform) => formatPlatform(platform) === formatPlatform(wanted));
  if (match) return match;
  if (requested) throw new GociError('BAD_PLATFORM', `--load-platform ${requested}: the image has no such platform (it has ${plan.platforms.map(formatPlatform).join(', ')})`);
  return plan.platforms[0]!;
}

/** --tarball and --load; both need the docker-archive view of one platform. */
async function exportToDocker(_plan: ImagePlan, _assembled: AssembledImages, _layoutDir: string, _tags: string[], _platform: Platform, flags: ImageFlags): Promise<void> {
  if (flags.tarball || flags.load) {
    throw new GociError('BAD_ARGUMENT', '--tarball and --load are not available yet', { hint: 'use the OCI layout (--oci-layout) for now' });
  }
}

function describeImage(image: BuiltImage): string {
  const rows = image.platforms.map((platform) => [platform.platform, platform.digest, formatSize(platform.size)]);
  return [
    `image ${image.repository}:${image.tags.join(', ')}  ${image.index.digest}`,
    renderTable(['PLATFORM', 'MANIFEST', 'SIZE'], rows, [2]).trimEnd(),
    `oci layout: ${displayPath(image.ociLayout)} (tags ${image.tags.join(', ')})`,
    '',
  ].join('\n');
}
