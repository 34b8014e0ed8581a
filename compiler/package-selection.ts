import { relative, resolve, sep } from 'node:path';
import { displayPath } from '../common/display-path.js';
import { GociError } from '../common/errors.js';
import { entrypointBuildId, imageBuildIds } from '../spec/image-builds.js';
import { fieldLocation } from '../spec/load.js';
import type { BuildSpec, Spec } from '../spec/schema.js';
import { findModule, readModulePath } from './module.js';

function isPathLike(main: string): boolean {
  return main === '.' || main === '..' || main.startsWith('./') || main.startsWith('../');
}

/**
 * Where a build's main package is on disk: a path (`./cmd/app`) below the build's dir; an import
 * path below its module's root when the module declares it; undefined for another module's package.
 */
async function mainPackageDir(spec: Spec, build: BuildSpec): Promise<string | undefined> {
  const cwd = resolve(spec.baseDir, build.dir);
  if (isPathLike(build.main)) return resolve(cwd, build.main);
  const { root } = await findModule(cwd);
  if (root === undefined) return undefined;
  const module = await readModulePath(root);
  if (build.main === module) return root;
  return build.main.startsWith(`${module}/`) ? resolve(root, build.main.slice(module.length + 1)) : undefined;
}

/**
 * The part of a spec that builds the packages in `dirs` (absolute directories): their builds,
 * the images they start, and whatever other binaries those images hold. A directory no build
 * names is refused, naming the builds there are.
 */
export async function selectPackages(spec: Spec, dirs: string[]): Promise<Spec> {
  const mains = await Promise.all(spec.builds.map((build) => mainPackageDir(spec, build)));
  const chosen = new Set<string>();
  for (const dir of dirs) {
    const matches = spec.builds.filter((_, position) => mains[position] === dir);
    if (matches.length === 0) throw notBuilt(spec, dir, mains);
    for (const build of matches) chosen.add(build.id);
  }
  const images = spec.images.filter((image) => chosen.has(entrypointBuildId(spec, image)));
  // An image's other binaries come along: the image is built whole or not at all.
  for (const image of images) for (const id of imageBuildIds(spec, image)) chosen.add(id);
  const builds = spec.builds.filter((build) => chosen.has(build.id));
  // `image:` without binaries holds every build: after selection, every chosen one.
  return { ...spec, builds, images };
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
