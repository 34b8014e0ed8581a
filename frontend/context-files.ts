import { posix } from 'node:path';
import { fieldLocation } from '../spec/load.js';
import type { FileSpec, ImageSpec, Spec } from '../spec/schema.js';
import { notCopyableKind, sourceMissing, symlinkOutsideContext, type FoundFile } from '../images/file-entries.js';
import type { Gateway } from './gateway.js';
import type { Stat } from './gen/stat_pb.js';
import type { Output } from './llb/vertex.js';

/** A file or link in a solved filesystem, as a copy step names it: the output and the path inside. */
export interface LlbFile {
  from: Output;
  path: string;
}

/** Go's os.FileMode type bits, as BuildKit's Stat carries them. */
const MODE_DIR = 0x80000000;
const MODE_SYMLINK = 0x08000000;
const MODE_TYPE = 0x80000000 | 0x08000000 | 0x04000000 | 0x02000000 | 0x01000000 | 0x00200000 | 0x00080000;

/** How the context appears in messages: BuildKit's copy of it has no host path. */
const CONTEXT_SHOWN = 'the build context';

interface ContextWalk {
  gateway: Gateway;
  ref: string;
  context: Output;
  at: string;
}

/**
 * What `image.files` names in the build context, read through BuildKit (StatFile, ReadDir) as
 * the CLI reads it from disk (images/extra-files.ts): a file, or a directory's whole tree, links
 * kept as links and refused when they lead out of the context, anything else refused.
 */
export async function findContextFiles(
  gateway: Gateway,
  contextRef: string,
  context: Output,
  spec: Spec,
  image: ImageSpec,
): Promise<FoundFile<LlbFile>[][]> {
  return Promise.all(
    image.files.map((file) =>
      findOne({ gateway, ref: contextRef, context, at: fieldLocation(spec, `${file.path}.src`) }, file),
    ),
  );
}

async function findOne(walk: ContextWalk, file: FileSpec): Promise<FoundFile<LlbFile>[]> {
  const path = posix.join('/', file.src);
  const stat = await walk.gateway.statFile(walk.ref, path).catch(() => undefined);
  if (!stat) throw sourceMissing(walk.at, file.src);
  if (isDirectory(stat)) {
    const found: FoundFile<LlbFile>[] = [{ type: 'directory', relative: '' }];
    await walkTree(walk, path, file.src, '', found);
    return found;
  }
  if (isRegular(stat)) return [{ type: 'file', relative: '', executable: isExecutable(stat), source: at(walk, path) }];
  throw notCopyableKind(walk.at, file.src, 'not a regular file');
}

/** A copied tree, depth first in name order, as the CLI walks it. */
async function walkTree(
  walk: ContextWalk,
  dir: string,
  shown: string,
  relative: string,
  into: FoundFile<LlbFile>[],
): Promise<void> {
  const entries = await walk.gateway.readDir(walk.ref, dir);
  const byName = entries.map((stat) => [posix.basename(stat.path), stat] as const).sort(([a], [b]) => compare(a, b));
  for (const [name, stat] of byName) {
    const path = posix.join(dir, name);
    const entryShown = `${shown.replace(/\/+$/, '')}/${name}`;
    const below = relative === '' ? name : `${relative}/${name}`;
    if (isSymlink(stat)) {
      checkLink(walk, path, stat.linkname, entryShown);
      into.push({ type: 'symlink', relative: below, target: stat.linkname, source: at(walk, path) });
    } else if (isDirectory(stat)) {
      into.push({ type: 'directory', relative: below });
      await walkTree(walk, path, entryShown, below, into);
    } else if (isRegular(stat)) {
      into.push({ type: 'file', relative: below, executable: isExecutable(stat), source: at(walk, path) });
    } else {
      throw notCopyableKind(walk.at, entryShown, 'not a regular file');
    }
  }
}

/** The CLI resolves a link on disk; here the context is the whole filesystem, so its target must stay below `/`. */
function checkLink(walk: ContextWalk, path: string, target: string, shown: string): void {
  const resolved = posix.isAbsolute(target) ? undefined : posix.normalize(posix.join(posix.dirname(path), target));
  if (resolved === undefined || !resolved.startsWith('/') || resolved.startsWith('/..'))
    throw symlinkOutsideContext(walk.at, shown, target, CONTEXT_SHOWN);
}

/** Names in byte order, as readdir().sort() orders them in the CLI. */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function at(walk: ContextWalk, path: string): LlbFile {
  return { from: walk.context, path };
}

function isDirectory(stat: Stat): boolean {
  return (stat.mode & MODE_DIR) !== 0;
}

function isSymlink(stat: Stat): boolean {
  return (stat.mode & MODE_SYMLINK) !== 0;
}

function isRegular(stat: Stat): boolean {
  return ((stat.mode >>> 0) & MODE_TYPE) >>> 0 === 0;
}

function isExecutable(stat: Stat): boolean {
  return (stat.mode & 0o111) !== 0;
}
