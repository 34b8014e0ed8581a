import { displayPath } from './display-path.js';
import { GociError } from './errors.js';

/** What a file system errno means for a user, and what to do about it. */
const ERRNO_TEXT: Record<string, { says: string; hint: string }> = {
  ENOSPC: {
    says: 'no space left on the device',
    hint: 'free space on that file system or choose another --dist or --oci-layout',
  },
  EDQUOT: { says: 'disk quota exceeded', hint: 'free space within the quota or choose another --dist or --oci-layout' },
  EROFS: { says: 'read-only file system', hint: 'choose a writable --dist or --oci-layout' },
  EACCES: { says: 'permission denied', hint: 'choose a --dist or --oci-layout you may write' },
  EPERM: { says: 'operation not permitted', hint: 'choose a --dist or --oci-layout you may write' },
  EIO: { says: 'input/output error', hint: 'check the disk' },
  ENOTDIR: {
    says: 'a component of the path is not a directory',
    hint: 'choose an output path whose parents are directories',
  },
  EISDIR: { says: 'it is a directory', hint: 'choose an output path that is not a directory' },
  EMFILE: { says: 'too many open files', hint: 'raise the open file limit (ulimit -n)' },
};

/** The errno code of a Node.js system error, if `error` is one goci can explain. */
export function knownErrno(error: unknown): string | undefined {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' && code in ERRNO_TEXT ? code : undefined;
}

/**
 * A file system failure as one line naming the errno and the path, for example
 * `cannot write dist/bin/app: no space left on the device (ENOSPC)`: an environment problem
 * (exit 1), never an internal error. Other errors pass through unchanged.
 */
export function fileSystemError(error: unknown, path?: string, action?: string): unknown {
  const code = knownErrno(error);
  if (code === undefined) return error;
  const where = path ?? (error as { dest?: string }).dest ?? (error as NodeJS.ErrnoException).path;
  const { says, hint } = ERRNO_TEXT[code]!;
  const place = where ? ` ${displayPath(where)}` : '';
  // An errno from reading (an unreadable image.files source) must not send the user to --dist.
  const reading = action === undefined && READING_CALLS.has((error as NodeJS.ErrnoException).syscall ?? '');
  const verb = action ?? (reading ? 'read' : 'write');
  const advice = reading ? 'check that the file exists and that goci may read it' : hint;
  return new GociError('IO_FAILED', `cannot ${verb}${place}: ${says} (${code})`, { hint: advice, cause: error });
}

/** System calls that only read: their errors are about an input, not an output. */
const READING_CALLS = new Set(['read', 'scandir', 'opendir', 'stat', 'lstat', 'readlink', 'realpath', 'access']);
