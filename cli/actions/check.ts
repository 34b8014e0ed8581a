import { displayPath } from '../../common/display-path.js';
import { formatPlatform } from '../../compiler/platform.js';
import { checkDistinctOutputs } from '../../pipeline/output-conflicts.js';
import { planImages } from '../../pipeline/plan-images.js';
import { checkImage } from '../../pipeline/prepare-image.js';
import { compileRequest, distDir, type BuildFlags } from '../build-options.js';
import type { ImageFlags } from '../image-options.js';

interface CheckedSpec {
  file: string;
  builds: { id: string; platforms: string[] }[];
  images: { name: string; tags: string[] }[];
}

/**
 * `goci check [DIR...] [image flags]`: everything `goci build` with the same flags checks before
 * it compiles — goci.yaml, the platforms against this Go toolchain, the build context,
 * image.files, tags, outputs, --release — with nothing compiled, written or contacted. For CI
 * lint steps and editors.
 */
export async function check(dirs: string[], flags: BuildFlags & ImageFlags): Promise<void> {
  const { plan, units } = await planImages(compileRequest(dirs, flags));
  const settings = { ...flags, dist: distDir(flags) };
  const checked = new Map<string, CheckedSpec>();
  for (const target of plan.targets) {
    const file = displayPath(target.spec.file ?? target.spec.baseDir);
    const spec = checked.get(file) ?? { file, builds: [], images: [] };
    checked.set(file, spec);
    const build = spec.builds.find((item) => item.id === target.buildId);
    if (build) build.platforms.push(formatPlatform(target.platform));
    else spec.builds.push({ id: target.buildId, platforms: [formatPlatform(target.platform)] });
  }
  const images = await Promise.all(units.map(({ unit, context }) => checkImage(unit, settings, context)));
  checkDistinctOutputs(images, settings);
  for (const image of images)
    checked
      .get(displayPath(image.spec.file ?? image.spec.baseDir))
      ?.images.push({ name: image.name, tags: image.tags });
  const specs = [...checked.values()];
  if (flags.json) {
    process.stdout.write(`${JSON.stringify({ go: plan.toolchain.go, specs }, null, 2)}\n`);
    return;
  }
  for (const spec of specs) {
    const builds = spec.builds.map((build) => `${build.id} (${build.platforms.join(', ')})`).join(', ');
    const images = spec.images.map((image) => `${image.name}:${image.tags.join(',')}`).join(', ');
    process.stdout.write(`${spec.file}: ok: builds ${builds}; images ${images || 'none'}\n`);
  }
}
