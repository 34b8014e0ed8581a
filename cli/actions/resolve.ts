import { readFile, readdir, realpath, stat } from 'node:fs/promises';
import { join, resolve as resolvePath } from 'node:path';
import { text as readStream } from 'node:stream/consumers';
import { writeFileAtomic } from '../../common/atomic.js';
import { displayPath } from '../../common/display-path.js';
import { GociError } from '../../common/errors.js';
import { isInside } from '../../common/inside.js';
import { warn } from '../../common/warn.js';
import { found } from '../../common/found.js';
import { isPathLike, mainPackageDir } from '../../compiler/main-package.js';
import { findModule, readModulePath } from '../../compiler/module.js';
import type { BuiltImage } from '../../pipeline/built-image.js';
import {
  REFERENCE_SCHEME,
  findReferences,
  replaceReferences,
  type FoundReference,
} from '../../pipeline/manifest-references.js';
import type { ResolveFlags } from '../commands/resolve.js';
import { buildImages } from './build.js';
import { publishSettings } from './publish.js';

interface Input {
  name: string;
  text: string;
  references: FoundReference[];
}

/**
 * `goci resolve -f FILE|DIR|-`: every goci:// reference in the YAML is built and pushed (as goci
 * publish would), then the YAML is printed (or written to -o) with each replaced by the pushed
 * `repository@sha256:…`, every other byte as it was.
 */
export async function resolve(flags: ResolveFlags): Promise<void> {
  const settings = publishSettings('resolve', flags);
  const inputs = await readInputs(flags.filename);
  const targets = [...new Set(inputs.flatMap((input) => input.references.map((reference) => reference.target)))];
  if (targets.length === 0)
    warn(`no ${REFERENCE_SCHEME} references in ${inputs.map((input) => input.name).join(', ')}`);
  const directories = new Map<string, string>();
  for (const target of targets) directories.set(target, await packageDirectory(target));
  const built =
    targets.length === 0 ? [] : await buildImages([...new Set(directories.values())], { ...flags, ...settings }, 'one');
  if (built === undefined) return;
  const images = new Map(targets.map((target) => [target, pushedImage(target, directories.get(target)!, built)]));
  const output = joinDocuments(inputs.map((input) => replaceReferences(input.text, input.references, images)));
  if (flags.output === undefined) process.stdout.write(output);
  else await writeFileAtomic(resolvePath(flags.output), output);
}

async function readInputs(paths: string[]): Promise<Input[]> {
  const files: { name: string; read: () => Promise<string> }[] = [];
  for (const path of paths) {
    if (path === '-') files.push({ name: 'stdin', read: () => readStream(process.stdin) });
    else
      for (const file of await yamlFiles(path))
        files.push({ name: displayPath(file), read: () => readFile(file, 'utf8') });
  }
  return Promise.all(
    files.map(async ({ name, read }) => {
      const text = await read();
      return { name, text, references: findReferences(text, name) };
    }),
  );
}

/** A file as given; a directory's .yaml and .yml files, its subdirectories' too, in path order. */
async function yamlFiles(path: string): Promise<string[]> {
  const info = await stat(path).catch(() => undefined);
  if (!info)
    throw new GociError('NOT_FOUND', `-f ${path}: no such file or directory`, {
      hint: 'name a YAML file, a directory of them, or - for stdin',
    });
  if (!info.isDirectory()) return [path];
  const entries = await readdir(path, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile() && /\.ya?ml$/.test(entry.name))
    .map((entry) => join(entry.parentPath ?? entry.path, entry.name))
    .sort();
}

/**
 * The directory of a reference's main package in the module the current directory is in (goci
 * builds that module's packages): `./cmd/app` from the current directory; an import path below
 * the module's path. It stays in that module: not through a symlink out of it, not into a nested
 * module (a directory below with its own go.mod).
 */
async function packageDirectory(target: string): Promise<string> {
  const { root } = await findModule(process.cwd());
  const module = root === undefined ? undefined : await readModulePath(root);
  const outside = (): GociError =>
    new GociError(
      'BAD_ARGUMENT',
      `${REFERENCE_SCHEME}${target}: not a package of ${module === undefined ? 'a Go module here' : `module ${module}`}`,
      { hint: `write ${REFERENCE_SCHEME} with an import path of this module, or ./ and the package's directory` },
    );
  if (root === undefined || module === undefined) throw outside();
  // A reference names one image: a package pattern names many (ko:// takes none either).
  if (target.split('/').includes('...'))
    throw new GociError('BAD_ARGUMENT', `${REFERENCE_SCHEME}${target}: a package pattern names no one image`, {
      hint: `write one package per ${REFERENCE_SCHEME} reference`,
    });
  const dir = isPathLike(target) ? resolvePath(target) : await mainPackageDir(root, target);
  // An import path's . or .. elements would walk out of what it names.
  const elements = target.split('/');
  const walks =
    !isPathLike(target) && elements.some((element) => element === '.' || element === '..' || element === '');
  if (dir === undefined || walks || target.includes('\\')) throw outside();
  const [realDir, realRoot] = await Promise.all([realpath(dir).catch(() => dir), realpath(root)]);
  if (!isInside(realDir, realRoot) || (await findModule(dir)).root !== root) throw outside();
  return dir;
}

/** The pushed reference of the image a package starts (the build checked there is exactly one). */
function pushedImage(target: string, directory: string, built: BuiltImage[]): string {
  const pushed = found(
    built.find((image) => image.mainPackage === directory),
    `the image starting ${REFERENCE_SCHEME}${target}`,
  ).pushed;
  return found(pushed, `the push of ${REFERENCE_SCHEME}${target}`).reference;
}

/** Several files as one YAML stream, as kubectl apply -f takes it. */
function joinDocuments(texts: string[]): string {
  return texts
    .map((text) => (text.endsWith('\n') || text === '' ? text : `${text}\n`))
    .map((text, position) => (position === 0 || text.startsWith('---') ? text : `---\n${text}`))
    .join('');
}
