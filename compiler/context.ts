import { realpath } from 'node:fs/promises';
import { dirname, isAbsolute, posix, relative, resolve } from 'node:path';
import { displayPath } from '../common/display-path.js';
import { GociError } from '../common/errors.js';
import { isInside } from '../common/inside.js';
import type { Spec } from '../spec/schema.js';

/**
 * The build context, as `docker build` has one: the directory whose files a goci.yaml may name
 * (builds[].dir and main, image.files). It is the goci.yaml's directory, or the package
 * directory when there is none; `--context DIR` widens it (to the module or git root). Paths
 * are compared after resolving symlinks, so a link cannot lead out of it.
 */
export interface BuildContext {
  /** The real path (symlinks resolved). */
  dir: string;
  /** How messages show it. */
  shown: string;
}

export const WIDEN_HINT = 'name only files inside the build context, or widen it with --context DIR';

/** The context of a spec whose relative paths start at `baseDir`; `requested` is the --context flag. */
export async function buildContext(baseDir: string, requested: string | undefined): Promise<BuildContext> {
  const base = await realpath(baseDir);
  if (requested === undefined) return { dir: base, shown: displayPath(baseDir) };
  const dir = await realpath(resolve(requested)).catch((error: NodeJS.ErrnoException) => {
    const problem = error.code ?? error.message;
    const hint = 'give an existing directory';
    throw new GociError('NOT_FOUND', `--context ${requested}: cannot be read (${problem})`, { hint });
  });
  if (!isInside(base, dir)) {
    const problem = `does not contain ${displayPath(baseDir)}, where the build's paths start`;
    const hint = 'give a directory that holds goci.yaml (the module or git root)';
    throw new GociError('BAD_ARGUMENT', `--context ${requested} ${problem}`, { hint });
  }
  return { dir, shown: displayPath(resolve(requested)) };
}

/**
 * The real path of `path` (absolute), refused unless it lies inside the context. A path that
 * does not exist is judged by its nearest existing parent plus the rest, so a missing file is
 * left for the caller to report and never used to reach outside.
 */
export async function realPathInContext(
  path: string,
  context: BuildContext,
  where: string,
  written: string,
): Promise<string> {
  const real = await realPathOf(path, where, written);
  if (!isInside(real, context.dir)) throw outsideContext(where, written, real, context);
  return real;
}

export function outsideContext(where: string, written: string, real: string, context: BuildContext): GociError {
  const problem = `resolves to ${real}, outside the build context ${context.shown}`;
  return new GociError('BAD_SPEC', `${where}: "${written}" ${problem}`, { hint: WIDEN_HINT });
}

/** The real path of `path`; for a missing path, its nearest existing parent's plus the rest. A loop is refused. */
export async function realPathOf(path: string, where: string, written: string): Promise<string> {
  try {
    return await realpath(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ELOOP') throw symlinkLoop(where, written);
    if (code !== 'ENOENT' && code !== 'ENOTDIR') throw unreadable(where, written, error);
    const parent = dirname(path);
    if (parent === path) return path;
    return resolve(await realPathOf(parent, where, written), relative(parent, path));
  }
}

/**
 * A path goci.yaml names that exists but cannot be read (EACCES, EIO, …): `<where>: "<written>"
 * cannot be read ([<path>: ]<errno>)`, where `path` is the entry below it that failed.
 */
export function unreadable(where: string, written: string, error: unknown, path?: string): GociError {
  const problem = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
  const at = path === undefined ? '' : `${path}: `;
  return new GociError('IO_FAILED', `${where}: "${written}" cannot be read (${at}${problem})`, { cause: error });
}

export function symlinkLoop(where: string, written: string): GociError {
  const hint = 'remove the loop, or leave it out of the build';
  return new GociError('BAD_SPEC', `${where}: "${written}" is a symlink loop (or passes through one)`, { hint });
}

/**
 * For a context that is not on this machine (BuildKit's): the spec's relative paths, checked by
 * their text alone, since BuildKit's file operations keep them inside the context it sent.
 * `..` that climbs above the context is refused, as the CLI refuses it after resolving symlinks.
 */
export function checkPathsStayInContext(spec: Spec, file: string): void {
  const check = (fieldPath: string, path: string): void => {
    const climbs = posix.normalize(path).split('/')[0] === '..';
    if (isAbsolute(path) || climbs) {
      const where = `${file}: ${fieldPath}`;
      throw new GociError('BAD_SPEC', `${where}: "${path}" leaves the build context`, { hint: WIDEN_HINT });
    }
  };
  for (const build of spec.builds) {
    check(`${build.path}.dir`, build.dir);
    if (build.main.startsWith('.')) check(`${build.path}.main`, posix.join(build.dir, build.main));
  }
  for (const item of spec.images.flatMap((image) => image.files)) check(`${item.path}.src`, item.src);
}
