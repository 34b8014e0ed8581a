import { resolve } from 'node:path';
import { importPathOf, isPathLike } from '../compiler/main-package.js';
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

/** The main package's import path: main when it is one, else the module path and the directory below it. */
async function importPath(identity: ImageIdentity): Promise<string> {
  if (!isPathLike(identity.main)) return identity.main;
  const mainDir = resolve(identity.cwd, identity.main);
  if (identity.moduleRoot === undefined)
    throw new GociError('BAD_ARGUMENT', `${mainDir}: no go.mod, so no import path to name the image by`, {
      hint: 'name images by their goci.yaml name (the default naming) in GOPATH mode',
    });
  return importPathOf(mainDir, identity.moduleRoot);
}
