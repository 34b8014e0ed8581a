import { relative, resolve, sep } from 'node:path';
import { readModulePath } from '../compiler/module.js';
import { GociError } from '../common/errors.js';
import { parseReference, type ImageRef } from '../registry/reference.js';

/**
 * How `goci publish` names each image below the repository prefix, as ko's flags do:
 * `name` (default) the image's name in goci.yaml (image.repository, else its entrypoint binary),
 * `import-path` the entrypoint's main package import path (ko --preserve-import-paths),
 * `bare` the prefix itself (ko --bare; one image per tag).
 */
export type Naming = 'name' | 'import-path' | 'bare';

export const NAMINGS: readonly Naming[] = ['name', 'import-path', 'bare'];

/** Where one image is pushed: `--push` as given, or a repository below `--repo-prefix`/GOCI_REPO. */
export interface PushRequest {
  push?: string | undefined;
  repoPrefix?: string | undefined;
  naming?: Naming | undefined;
}

/** What names an image below a prefix: its name in goci.yaml, and its entrypoint's main package. */
export interface ImageIdentity {
  name: string;
  /** Where the entrypoint's `go build` runs, and the main package as it names it (`./cmd/app` or an import path). */
  cwd: string;
  main: string;
  /** The directory of its go.mod; undefined in GOPATH mode. */
  moduleRoot: string | undefined;
}

function isPathLike(main: string): boolean {
  return main === '.' || main === '..' || main.startsWith('./') || main.startsWith('../');
}

/** The entrypoint's main package: its directory when main is a path, else the import path main names. */
export function mainPackageOf(identity: ImageIdentity): string {
  return isPathLike(identity.main) ? resolve(identity.cwd, identity.main) : identity.main;
}

/** The repository an image is pushed to, undefined when nothing is pushed; checked, not contacted. */
export async function pushTarget(request: PushRequest, identity: ImageIdentity): Promise<ImageRef | undefined> {
  if (request.push !== undefined) {
    const ref = parseReference(request.push);
    if (ref.digest)
      throw new GociError('BAD_ARGUMENT', `--push ${request.push}: push to a repository or a tag, not a digest`);
    return ref;
  }
  if (request.repoPrefix === undefined) return undefined;
  const prefix = request.repoPrefix.replace(/\/+$/, '');
  const naming = request.naming ?? 'name';
  const below = naming === 'bare' ? '' : `/${naming === 'name' ? identity.name : await importPath(identity)}`;
  const ref = parseReference(`${prefix}${below.toLowerCase()}`);
  if (ref.tag || ref.digest)
    throw new GociError('BAD_ARGUMENT', `repository prefix ${request.repoPrefix}: a prefix names no tag or digest`, {
      hint: 'give a registry and path, e.g. ghcr.io/acme (set by GOCI_REPO or --repo-prefix)',
    });
  return ref;
}

/** The main package's import path: the module path from go.mod and the package's directory below it. */
async function importPath(identity: ImageIdentity): Promise<string> {
  const mainDir = mainPackageOf(identity);
  if (!isPathLike(identity.main)) return mainDir;
  const root = identity.moduleRoot;
  if (root === undefined)
    throw new GociError('BAD_ARGUMENT', `${mainDir}: no go.mod, so no import path to name the image by`, {
      hint: 'name images by their goci.yaml name (the default naming) in GOPATH mode',
    });
  const module = await readModulePath(root);
  const below = relative(root, mainDir).split(sep).join('/');
  return below === '' ? module : `${module}/${below}`;
}
