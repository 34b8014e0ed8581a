import { GociError } from '../common/errors.js';
import { WIDEN_HINT } from '../compiler/context.js';
import type { ImageSpec } from '../spec/schema.js';
import type { LayerDirectory, LayerSymlink } from './layer.js';

/**
 * One thing a door found at an `image.files` source, in walk order (depth first, names sorted).
 * `relative` is `''` for the source itself, else its path below it (`css/site.css`). A file's
 * bytes stay where the door found them: `source` is its handle (a host path, a BuildKit output).
 */
export type FoundFile<S> =
  | { type: 'file'; relative: string; executable: boolean; source: S }
  | { type: 'directory'; relative: string }
  | { type: 'symlink'; relative: string; target: string; source: S };

/** A file in an image whose bytes the door fetches from `source`. */
export interface PlannedFile<S> {
  type: 'file';
  path: string;
  mode: number;
  uid: number;
  gid: number;
  source: S;
}

/** A symlink kept as a symlink; `source` is where the door finds the link (the frontend copies the link itself). */
export interface PlannedSymlink<S> extends LayerSymlink {
  source: S;
}

/** What an image layer holds, as both doors write it: as a tar (CLI) or as file operations (frontend). */
export type PlannedEntry<S> = PlannedFile<S> | LayerDirectory | PlannedSymlink<S>;

/** Files without an explicit mode: executable where found stays executable, anything else is 0644. */
function defaultMode(executable: boolean): number {
  return executable ? 0o755 : 0o644;
}

/**
 * The entries of `image.files`: a file goes to `dst`, a directory's whole tree below `dst`;
 * directories dirMode or 0755, files the spec's mode or 0755/0644, owners from the spec, never
 * from the machine or the context, so both doors make the same layer. Then the empty
 * directories: image.directories, and each volume nothing else makes, owned by the image's user.
 */
export function fileEntries<S>(
  image: Pick<ImageSpec, 'files' | 'directories' | 'volumes' | 'path'>,
  found: FoundFile<S>[][],
  where: (path: string) => string,
  user: string,
): PlannedEntry<S>[] {
  const { files } = image;
  const entries = files.flatMap((file, position) =>
    (found[position] ?? []).map((item): PlannedEntry<S> => {
      const path = item.relative === '' ? file.dst : `${file.dst}/${item.relative}`;
      const { uid, gid } = file;
      if (item.type === 'directory') return { type: 'directory', path, mode: file.dirMode ?? 0o755, uid, gid };
      if (item.type === 'symlink') return { type: 'symlink', path, target: item.target, uid, gid, source: item.source };
      return { type: 'file', path, mode: file.mode ?? defaultMode(item.executable), uid, gid, source: item.source };
    }),
  );
  // The empty directories first: the frontend makes entries in this order, and a file copied below
  // one must not make it first (with the file's owner, as BuildKit's copy would).
  const all = [...emptyDirectories(image, new Set(entries.map((entry) => entry.path)), where, user), ...entries];
  rejectDuplicateDestinations(all, where(`${image.path}.files`));
  return all;
}

/** image.directories, then a directory for each volume that neither they nor image.files make. */
function emptyDirectories(
  image: Pick<ImageSpec, 'directories' | 'volumes' | 'path'>,
  made: Set<string>,
  where: (path: string) => string,
  user: string,
): LayerDirectory[] {
  const listed = image.directories.map((directory): LayerDirectory => {
    const { uid, gid } = directory.owner ?? userIds(user, where(`${directory.path}.owner`));
    return { type: 'directory', path: directory.dst, mode: directory.mode, uid, gid };
  });
  const volumes = image.volumes.flatMap((volume, position): LayerDirectory[] => {
    if (made.has(volume) || listed.some((directory) => directory.path === volume)) return [];
    const { uid, gid } = userIds(user, where(`${image.path}.volumes[${position}]`));
    return [{ type: 'directory', path: volume, mode: 0o755, uid, gid }];
  });
  return [...listed, ...volumes];
}

/**
 * The numeric ids of the user a container runs as (`65532`, `1000:1000`; empty or root is 0), so
 * that the directories it writes are its own. A user by name cannot be read without the base's
 * /etc/passwd: an owner must then be given.
 */
function userIds(user: string, at: string): { uid: number; gid: number } {
  if (user === '' || user === 'root') return { uid: 0, gid: 0 };
  const match = /^(\d+)(?::(\d+))?$/.exec(user);
  if (!match)
    throw new GociError('BAD_SPEC', `${at}: the image runs as "${user}", a name, so goci cannot tell its uid`, {
      hint: 'give the directory a numeric owner in image.directories (owner: 65532:65532)',
    });
  return { uid: Number(match[1]), gid: Number(match[2] ?? match[1]) };
}

function rejectDuplicateDestinations(entries: { path: string }[], list: string): void {
  const seen = new Set<string>();
  for (const entry of entries) {
    if (seen.has(entry.path)) {
      throw new GociError('BAD_SPEC', `${list}: two files are copied to ${entry.path}`, {
        hint: 'give each file its own dst',
      });
    }
    seen.add(entry.path);
  }
}

/** An image.files source that is not there. */
export function sourceMissing(at: string, src: string): GociError {
  const hint = 'paths in image.files are relative to the goci.yaml directory';
  return new GociError('NOT_FOUND', `${at}: ${src} does not exist`, { hint });
}

/** A symlink in a copied tree whose target leads out of the build context. */
export function symlinkOutsideContext(at: string, shown: string, target: string, context: string): GociError {
  const problem = `is a symlink to ${target}, outside the build context ${context}`;
  return new GociError('BAD_SPEC', `${at}: "${shown}" ${problem}`, { hint: WIDEN_HINT });
}

/** A FIFO, socket or device named by image.files; `kind` says which (`a FIFO`). */
export function notCopyableKind(at: string, shown: string, kind: string): GociError {
  const problem = `is ${kind}; only regular files, directories and symlinks can be copied into an image`;
  return new GociError('BAD_SPEC', `${at}: "${shown}" ${problem}`, { hint: 'leave it out of image.files' });
}
