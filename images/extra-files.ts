import { lstat, readdir, readlink } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { GociError } from '../common/errors.js';
import { buildContext, realPathInContext, realPathOf, unreadable } from '../compiler/context.js';
import { isInside } from '../common/inside.js';
import type { BuildContext } from '../compiler/context.js';
import type { FileSpec } from '../spec/schema.js';
import { notCopyableKind, sourceMissing, symlinkOutsideContext, type FoundFile } from './file-entries.js';

/**
 * What `image.files` names on this machine, for fileEntries (file-entries.ts): a file, or a
 * directory's whole tree. Sources are relative to the spec's directory.
 *
 * Like `docker build`'s context, nothing outside `context` (default: the spec's directory) is
 * read: a source must resolve inside it after its symlinks are resolved; inside a copied tree a
 * symlink is kept as a symlink (never followed) and is refused when it points outside; devices,
 * FIFOs and sockets are refused. The whole tree is walked and checked here, before anything is
 * compiled or written.
 */
export async function findExtraFiles(
  files: FileSpec[],
  baseDir: string,
  where: (path: string) => string,
  context?: BuildContext,
): Promise<FoundFile<string>[][]> {
  const within = context ?? (await buildContext(baseDir, undefined));
  const listings: FoundFile<string>[][] = [];
  for (const file of files) {
    const at = where(`${file.path}.src`);
    const source = await realPathInContext(resolve(baseDir, file.src), within, at, file.src);
    const info = await lstat(source).catch(() => undefined);
    if (!info) throw sourceMissing(at, file.src);
    const listing: FoundFile<string>[] = [];
    if (info.isDirectory()) {
      listing.push({ type: 'directory', relative: '' });
      await walk({ at, context: within }, source, file.src, '', listing).catch((error: unknown) => {
        throw readFailure(error, at, file.src);
      });
    } else if (info.isFile()) {
      listing.push({ type: 'file', relative: '', executable: isExecutable(info), source });
    } else {
      throw notCopyable(at, file.src, info);
    }
    listings.push(listing);
  }
  return listings;
}

function isExecutable(info: Stats): boolean {
  return (info.mode & 0o111) !== 0;
}

interface Walk {
  /** `goci.yaml: image.files[0].src`, for messages. */
  at: string;
  context: BuildContext;
}

/** A copied tree, depth first in name order; `shown` is the entry's path as the user wrote it (`web/css`). */
async function walk(
  walking: Walk,
  dir: string,
  shown: string,
  relative: string,
  into: FoundFile<string>[],
): Promise<void> {
  const { at } = walking;
  for (const name of (await readdir(dir)).sort()) {
    const source = join(dir, name);
    const entryShown = `${shown.replace(/\/+$/, '')}/${name}`;
    const path = relative === '' ? name : `${relative}/${name}`;
    const info = await lstat(source);
    if (info.isSymbolicLink()) {
      const target = await readlink(source);
      await checkSymlink(source, target, entryShown, walking);
      into.push({ type: 'symlink', relative: path, target, source });
    } else if (info.isDirectory()) {
      into.push({ type: 'directory', relative: path });
      await walk(walking, source, entryShown, path, into);
    } else if (info.isFile()) {
      into.push({ type: 'file', relative: path, executable: isExecutable(info), source });
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
    throw symlinkOutsideContext(at, shown, target, context.shown);
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
  return notCopyableKind(at, shown, kind);
}
