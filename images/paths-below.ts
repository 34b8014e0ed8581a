import { posix } from 'node:path';
import { GociError } from '../common/errors.js';
import { normaliseLayerPath, type LayerDirectory, type LayerEntry } from './layer.js';

/** What the image beneath a new layer holds at a path: a directory with its mode and owner, or a symlink. */
export type PathBelow =
  | { type: 'directory'; mode: number; uid: number; gid: number }
  | { type: 'symlink'; target: string };

/**
 * The directories and symlinks of an image so far, by layer path (`home/nonroot`): what a new
 * layer's unlisted parent directories must keep. Files are left out: goci never writes below one.
 */
export type PathsBelow = ReadonlyMap<string, PathBelow>;

export const NOTHING_BELOW: PathsBelow = new Map();

/** One layer's effect on the paths beneath it: first what it hides (whiteouts, opaque directories), then what it adds. */
export interface LayerListing {
  /** Paths a `.wh.<name>` entry deletes, with everything below them. */
  hidden: string[];
  /** Directories a `.wh..wh..opq` entry empties of what the layers beneath hold. */
  opaque: string[];
  paths: [string, PathBelow][];
}

/** Parents of an entry nobody listed and that the image beneath does not have: as Docker and BuildKit write them. */
const NEW_PARENT = { mode: 0o755, uid: 0, gid: 0 };

function isBelow(path: string, ancestor: string): boolean {
  return path.startsWith(`${ancestor}/`);
}

/** The paths of the image once `listing`'s layer is applied on top of `below`, as a container runtime applies it. */
export function stackListing(below: PathsBelow, listing: LayerListing): PathsBelow {
  const next = new Map(below);
  for (const path of listing.hidden) {
    for (const key of next.keys()) if (key === path || isBelow(key, path)) next.delete(key);
  }
  for (const dir of listing.opaque) {
    for (const key of next.keys()) if (dir === '' || isBelow(key, dir)) next.delete(key);
  }
  for (const [path, entry] of listing.paths) next.set(path, entry);
  return next;
}

/** The paths of the image once a layer of `entries` (parents included, see withParents) is on top of `below`. */
export function stackEntries(below: PathsBelow, entries: readonly LayerEntry[]): PathsBelow {
  const next = new Map(below);
  for (const entry of entries) {
    const path = normaliseLayerPath(entry.path);
    if (entry.type === 'directory')
      next.set(path, { type: 'directory', mode: entry.mode, uid: entry.uid, gid: entry.gid });
    else if (entry.type === 'symlink') next.set(path, { type: 'symlink', target: entry.target });
    else next.delete(path);
  }
  return next;
}

/**
 * `entries` and a directory entry for each parent nobody listed, with the mode and owner the
 * image beneath has there (0755 root where it has none). A layer that wrote its own 0755 root
 * `/home/nonroot` or `/srv` would replace the base's, as `docker build` and BuildKit never do.
 * A parent that is a symlink beneath is refused: writing a directory there would replace the link.
 */
export function withParents(entries: readonly LayerEntry[], below: PathsBelow): LayerEntry[] {
  const listed = new Set(entries.map((entry) => normaliseLayerPath(entry.path)));
  const parents = new Map<string, LayerDirectory>();
  for (const entry of entries) {
    const path = normaliseLayerPath(entry.path);
    for (let parent = posix.dirname(path); parent !== '.'; parent = posix.dirname(parent)) {
      if (listed.has(parent) || parents.has(parent)) continue;
      parents.set(parent, { type: 'directory', path: `/${parent}`, ...parentMetadata(path, parent, below) });
    }
  }
  return [...entries, ...parents.values()];
}

function parentMetadata(path: string, parent: string, below: PathsBelow): Omit<LayerDirectory, 'type' | 'path'> {
  const there = below.get(parent);
  if (there === undefined) return NEW_PARENT;
  if (there.type === 'directory') return { mode: there.mode, uid: there.uid, gid: there.gid };
  const resolved = posix.resolve('/', posix.dirname(parent), there.target, posix.relative(parent, path));
  throw new GociError(
    'BAD_SPEC',
    `the image path /${path} is below /${parent}, which the base image holds as a symlink to ${there.target}`,
    { hint: `name the path the link leads to (${resolved}) instead` },
  );
}
