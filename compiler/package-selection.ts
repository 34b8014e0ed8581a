import { relative, resolve, sep } from 'node:path';
import { displayPath } from '../common/display-path.js';
import { GociError } from '../common/errors.js';
import { entrypointBuildId, imageBuildIds, specImageName } from '../spec/image-builds.js';
import { fieldLocation } from '../spec/load.js';
import type { ImageSpec, Spec } from '../spec/schema.js';
import { mainPackageDir } from './main-package.js';

/**
 * What an image command asks of each package it names: that some image of goci.yaml starts it
 * (goci build), or exactly one (goci resolve, which puts that image's digest in its place).
 */
export type PackageImages = 'some' | 'one';

/** The directory of each build's main package, in build order (undefined for another module's). */
export function buildPackageDirs(spec: Spec): Promise<(string | undefined)[]> {
  return Promise.all(spec.builds.map((build) => mainPackageDir(resolve(spec.baseDir, build.dir), build.main)));
}

/**
 * The part of a spec that builds the packages in `dirs` (absolute directories): their builds,
 * the images they start, and whatever other binaries those images hold. A directory no build
 * names is refused, naming the builds there are; so is one no image starts when `images` asks.
 */
export async function selectPackages(spec: Spec, dirs: string[], images?: PackageImages): Promise<Spec> {
  const mains = await buildPackageDirs(spec);
  const chosen = new Set<string>();
  for (const dir of dirs) {
    const matches = spec.builds.filter((_, position) => mains[position] === dir);
    if (matches.length === 0) throw notBuilt(spec, dir, mains);
    if (images) checkImagesStarting(spec, dir, new Set(matches.map((build) => build.id)), images);
    for (const build of matches) chosen.add(build.id);
  }
  const selected = spec.images.filter((image) => chosen.has(entrypointBuildId(spec, image)));
  // An image's other binaries come along: the image is built whole or not at all.
  for (const image of selected) for (const id of imageBuildIds(spec, image)) chosen.add(id);
  const builds = spec.builds.filter((build) => chosen.has(build.id));
  // `image:` without binaries holds every build: after selection, every chosen one.
  return { ...spec, builds, images: selected };
}

/**
 * Whether `selectPackages(spec, [dir], images)` takes `dir`, given the spec's `mains`
 * (buildPackageDirs): a build of the spec has it as its main package, and, when `images` asks, an
 * image starts it. A package pattern keeps what this takes.
 */
export function buildsPackage(spec: Spec, mains: (string | undefined)[], dir: string, images?: PackageImages): boolean {
  const builds = new Set(spec.builds.filter((_, position) => mains[position] === dir).map((build) => build.id));
  if (builds.size === 0) return false;
  const starting = spec.images.filter((image) => builds.has(entrypointBuildId(spec, image)));
  return images === undefined || (images === 'some' ? starting.length > 0 : starting.length === 1);
}

/** Refuses a package that starts no image (or, for `one`, several), naming the images it is part of. */
function checkImagesStarting(spec: Spec, dir: string, builds: Set<string>, wanted: PackageImages): void {
  const starting = spec.images.filter((image) => builds.has(entrypointBuildId(spec, image)));
  if (starting.length === 1 || (starting.length > 1 && wanted === 'some')) return;
  const file = displayPath(spec.file ?? spec.baseDir);
  const list = (images: ImageSpec[]): string =>
    images.map((image) => `${specImageName(spec, image)} (${image.path})`).join(', ');
  if (starting.length > 1)
    throw new GociError(
      'BAD_ARGUMENT',
      `${displayPath(dir)}: ${starting.length} images in ${file} start this package: ${list(starting)}`,
      { hint: 'a reference names one image: give the others another entrypoint, or refer to them by repository' },
    );
  const holding = spec.images.filter((image) => imageBuildIds(spec, image).some((id) => builds.has(id)));
  throw new GociError(
    'BAD_ARGUMENT',
    `${displayPath(dir)}: no image in ${file} starts this package${holding.length > 0 ? `; it is a binary of ${list(holding)}` : ''}`,
    {
      hint:
        holding.length > 0
          ? "name the package that image's entrypoint is, or give this package an image of its own in goci.yaml"
          : 'add an image for it to goci.yaml, or build the binary alone with goci compile',
    },
  );
}

function notBuilt(spec: Spec, dir: string, mains: (string | undefined)[]): GociError {
  const shown = (path: string): string => {
    const below = relative(spec.baseDir, path);
    return below === '' ? '.' : below.startsWith('..') ? displayPath(path) : `./${below.split(sep).join('/')}`;
  };
  const builds = spec.builds.map((build, position) => {
    const main = mains[position];
    return `${build.id} (${main === undefined ? build.main : shown(main)})`;
  });
  return new GociError(
    'BAD_ARGUMENT',
    `${displayPath(dir)}: ${fieldLocation(spec, 'builds')} has no build of this package; its builds are ${builds.join(', ')}`,
    {
      hint: `add a build with main: ${shown(dir)} to ${displayPath(spec.file ?? 'goci.yaml')}, or name another file with --config`,
    },
  );
}
