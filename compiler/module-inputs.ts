import { createHash } from 'node:crypto';
import { readFile, readdir, stat } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';

/**
 * The content of every file in a module that `go build` may read, as `path sha256` lines
 * (paths relative to the module root): the key half of goci's binary cache that names the
 * source. It errs towards reading too much, never too little: a file it needlessly includes
 * costs a rebuild when it changes; a file it missed would serve a stale binary.
 */
export interface ModuleInputs {
  /** Sorted `path sha256` lines. */
  lines: string[];
}

/** Files the go command compiles, assembles, links or reads beside .go files (cgo is off). */
const SOURCE_FILE = /\.(go|s|h|syso|pgo)$/;
const MODULE_FILES = new Set(['go.mod', 'go.sum']);
const VCS_DIRS = new Set(['.git', '.hg', '.svn', '.bzr']);
const EMBED_DIRECTIVE = /^\s*\/\/go:embed\s/m;

interface Walked {
  /** Every file in the tree, relative to its root, `/`-separated. */
  files: string[];
}

/**
 * Reads the inputs of a module, or says it cannot (undefined): without a go.mod (GOPATH mode)
 * or inside a go.work workspace the set of sources is not this directory tree.
 */
export async function readModuleInputs(
  moduleRoot: string,
  excludedDirs: string[],
  env: NodeJS.ProcessEnv,
): Promise<ModuleInputs | undefined> {
  if (await inWorkspace(moduleRoot, env)) return undefined;
  const goMod = await readFile(join(moduleRoot, 'go.mod'), 'utf8').catch(() => undefined);
  if (goMod === undefined) return undefined;
  const roots: [string, string][] = [
    ['', moduleRoot],
    ...localReplacements(goMod).map((dir, index): [string, string] => [`replace${index}:`, resolve(moduleRoot, dir)]),
  ];
  const lines: string[] = [];
  try {
    for (const [prefix, root] of roots) {
      const walked = await walk(
        root,
        excludedDirs.map((dir) => resolve(dir)),
      );
      for (const [path, digest] of await hashInputs(root, walked)) lines.push(`${prefix}${path} ${digest}`);
    }
  } catch {
    // An unreadable file or directory (a dangling link, no permission): go build will judge it; goci just does not cache.
    return undefined;
  }
  return { lines: lines.sort() };
}

/** GOWORK=off opts out; otherwise a go.work in the module or above it makes a workspace. */
async function inWorkspace(moduleRoot: string, env: NodeJS.ProcessEnv): Promise<boolean> {
  if (env.GOWORK === 'off') return false;
  if (env.GOWORK) return true;
  for (let dir = moduleRoot; ; dir = dirname(dir)) {
    if (
      await stat(join(dir, 'go.work')).then(
        (info) => info.isFile(),
        () => false,
      )
    )
      return true;
    if (dirname(dir) === dir) return false;
  }
}

/** Right-hand sides of `replace` directives that are directories (./x, ../x or absolute), whose sources the build reads too. */
export function localReplacements(goMod: string): string[] {
  const dirs: string[] = [];
  for (const line of goMod.split('\n')) {
    const target = /=>\s*("[^"]*"|`[^`]*`|\S+)/.exec(line.replace(/\/\/.*$/, ''))?.[1]?.replace(/^["`]|["`]$/g, '');
    if (target && (target.startsWith('./') || target.startsWith('../') || isAbsolute(target))) dirs.push(target);
  }
  return dirs;
}

/** Every file under `root`, skipping version-control metadata, nested modules and `excluded` (goci's own output). */
async function walk(root: string, excluded: string[]): Promise<Walked> {
  const files: string[] = [];
  const visit = async (dir: string): Promise<void> => {
    const entries = await readdir(dir, { withFileTypes: true });
    if (dir !== root && entries.some((entry) => entry.name === 'go.mod' && entry.isFile())) return;
    for (const entry of entries) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) {
        if (!VCS_DIRS.has(entry.name) && !excluded.includes(path)) await visit(path);
      } else if (entry.isFile() || entry.isSymbolicLink()) {
        files.push(relative(root, path).split(sep).join('/'));
      }
    }
  };
  await visit(root);
  return { files };
}

/**
 * Source files everywhere, everything under vendor/, and every file in the tree of a package
 * that has a //go:embed directive (embed patterns cannot leave the package's directory, so
 * that tree holds whatever they match).
 */
async function hashInputs(root: string, walked: Walked): Promise<[string, string][]> {
  const contents = new Map<string, Buffer>();
  const read = async (path: string): Promise<Buffer> => {
    let bytes = contents.get(path);
    if (!bytes) {
      bytes = await readFile(join(root, path));
      contents.set(path, bytes);
    }
    return bytes;
  };
  const selected = new Set(
    walked.files.filter((path) => SOURCE_FILE.test(path) || MODULE_FILES.has(path) || path.startsWith('vendor/')),
  );
  const embedding = new Set<string>();
  for (const path of selected) {
    if (path.endsWith('.go') && EMBED_DIRECTIVE.test((await read(path)).toString('latin1')))
      embedding.add(path.includes('/') ? path.slice(0, path.lastIndexOf('/') + 1) : '');
  }
  for (const path of walked.files) {
    if ([...embedding].some((dir) => path.startsWith(dir))) selected.add(path);
  }
  const hashed: [string, string][] = [];
  for (const path of selected)
    hashed.push([
      path,
      createHash('sha256')
        .update(await read(path))
        .digest('hex'),
    ]);
  return hashed;
}
