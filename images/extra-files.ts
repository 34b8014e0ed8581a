import { lstat, readdir, readlink } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { GociError } from '../common/errors.js';
import { isInside } from '../common/inside.js';
import { WIDEN_HINT, buildContext, realPathInContext, realPathOf, unreadable } from '../compiler/context.js';
import type { BuildContext } from '../compiler/context.js';
import type { FileSpec } from '../spec/schema.js';
import type { LayerEntry } from './layer.js';

/** Files without an explicit mode: executable on disk stays executable, anything else is 0644. */
function defaultMode(hostMode: number): number {
  return hostMode & 0o111 ? 0o755 : 0o644;
}

/**
 * The layer entries for `image.files`: a file goes to `dst`, a directory's whole tree goes
 * below `dst`. Sources are relative to the spec's directory; modes and owners come from the
 * spec, never from the machine, so the layer is the same everywhere.
 *
 * Like `docker build`'s context, nothing outside `context` (default: the spec's directory) is
 * read: a source must resolve inside it after its symlinks are resolved; inside a copied tree a
 * symlink is stored as a symlink (never followed) and is refused when it points outside; devices,
 * FIFOs and sockets are refused. The whole tree is walked and checked here, before anything is
 * compiled or written.
 */
export async function extraFileEntries(
  files: FileSpec[],
  baseDir: string,
  where: (path: string) => string,
  context?: BuildContext,
): Promise<LayerEntry[]> {
  const within = context ?? (await buildContext(baseDir, undefined));
  const entries: LayerEntry[] = [];
  for (const file of files) {
    const at = where(`${file.path}.src`);
    const source = await realPathInContext(resolve(baseDir, file.src), within, at, file.src);
    const info = await lstat(source).catch(() => undefined);
    if (!info) {
      const hint = 'paths in image.files are relative to the goci.yaml directory';
      throw new GociError('NOT_FOUND', `${at}: ${file.src} does not exist`, { hint });
    }
    const { uid, gid } = file;
    if (info.isDirectory()) {
      entries.push({ type: 'directory', path: file.dst, mode: 0o755, uid, gid });
      await walk({ file, at, context: within }, source, file.src, file.dst, entries).catch((error: unknown) => {
        throw readFailure(error, at, file.src);
      });
    } else if (info.isFile()) {
      entries.push({ type: 'file', path: file.dst, mode: file.mode ?? defaultMode(info.mode), uid, gid, source });
    } else {
      throw notCopyable(at, file.src, info);
    }
  }
  rejectDuplicateDestinations(entries, where);
  return entries;
}

interface Walk {
  file: FileSpec;
  /** `goci.yaml: image.files[0].src`, for messages. */
  at: string;
  context: BuildContext;
}

/** A copied tree, depth first in name order; `shown` is the entry's path as the user wrote it (`web/css`). */
async function walk(walking: Walk, dir: string, shown: string, dst: string, into: LayerEntry[]): Promise<void> {
  const { file, at } = walking;
  const { uid, gid } = file;
  for (const name of (await readdir(dir)).sort()) {
    const source = join(dir, name);
    const entryShown = `${shown.replace(/\/+$/, '')}/${name}`;
    const path = `${dst}/${name}`;
    const info = await lstat(source);
    if (info.isSymbolicLink()) {
      const target = await readlink(source);
      await checkSymlink(source, target, entryShown, walking);
      into.push({ type: 'symlink', path, target, uid, gid });
    } else if (info.isDirectory()) {
      into.push({ type: 'directory', path, mode: 0o755, uid, gid });
      await walk(walking, source, entryShown, path, into);
    } else if (info.isFile()) {
      into.push({ type: 'file', path, mode: file.mode ?? defaultMode(info.mode), uid, gid, source });
    } else {
      throw notCopyable(at, entryShown, info);
    }
  }
}

/**
 * A symlink in a copied tree is stored as it is, but only when what it points at (resolved on
 * this machine, through further links) stays inside the context: a link out is refused rather
 * than carried into an image where a later copy might follow it.
 */
async function checkSymlink(source: string, target: string, shown: string, walking: Walk): Promise<void> {
  const { at, context } = walking;
  const real = await realPathOf(resolve(dirname(source), target), at, shown);
  if (!isInside(real, context.dir)) {
    const problem = `is a symlink to ${target}, outside the build context ${context.shown}`;
    throw new GociError('BAD_SPEC', `${at}: "${shown}" ${problem}`, { hint: WIDEN_HINT });
  }
}

/** An unreadable directory or an entry removed while it was walked: one line naming the tree, not an internal error. */
function readFailure(error: unknown, at: string, src: string): GociError {
  if (error instanceof GociError) return error;
  return unreadable(at, src, error, (error as NodeJS.ErrnoException).path ?? src);
}

function notCopyable(at: string, shown: string, info: Stats): GociError {
  const kind = info.isFIFO()
    ? 'a FIFO'
    : info.isSocket()
      ? 'a socket'
      : info.isCharacterDevice()
        ? 'a character device'
        : info.isBlockDevice()
          ? 'a block device'
          : 'not a regular file';
  const problem = `is ${kind}; only regular files, directories and symlinks can be copied into an image`;
  return new GociError('BAD_SPEC', `${at}: "${shown}" ${problem}`, { hint: 'leave it out of image.files' });
}

function rejectDuplicateDestinations(entries: LayerEntry[], where: (path: string) => string): void {
  const seen = new Set<string>();
  for (const entry of entries) {
    if (seen.has(entry.path)) {
      throw new GociError('BAD_SPEC', `${where('image.files')}: two files are copied to ${entry.path}`, {
        hint: 'give each file its own dst',
      });
    }
    seen.add(entry.path);
  }
}
