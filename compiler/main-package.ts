import { relative, resolve, sep } from 'node:path';
import { findModule, readModulePath } from './module.js';

/** go build reads `.`, `..`, `./x` and `../x` as directories; anything else as an import path. */
export function isPathLike(main: string): boolean {
  return main === '.' || main === '..' || main.startsWith('./') || main.startsWith('../');
}

/**
 * The directory of the main package a build names, as go build run in `cwd` finds it: a path
 * below `cwd`; an import path below the module's root when that module declares it; undefined
 * for another module's package.
 */
export async function mainPackageDir(cwd: string, main: string): Promise<string | undefined> {
  if (isPathLike(main)) return resolve(cwd, main);
  const { root } = await findModule(cwd);
  if (root === undefined) return undefined;
  const module = await readModulePath(root);
  if (main === module) return root;
  return main.startsWith(`${module}/`) ? resolve(root, main.slice(module.length + 1)) : undefined;
}

/** The import path of the package in `dir` of the module rooted at `root`. */
export async function importPathOf(dir: string, root: string): Promise<string> {
  const module = await readModulePath(root);
  const below = relative(root, dir).split(sep).join('/');
  return below === '' ? module : `${module}/${below}`;
}
