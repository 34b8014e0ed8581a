import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { displayPath } from './display-path.js';
import { GociError } from './errors.js';
import { fileSystemError } from './io-error.js';

const OUTPUT_DIRECTORIES = '--dist or --oci-layout';

/**
 * Fails early, creating nothing, when `path` (an output directory, existing or not) cannot be
 * written (`action` words the message: `cannot <action> <path>: …`; `flag` names the option
 * that chose it, for the hint): the nearest existing directory on its path must be a writable
 * directory. A read-only mount says EROFS, a file in the way ENOTDIR.
 */
export async function checkWritable(path: string, action = 'write', flag = OUTPUT_DIRECTORIES): Promise<void> {
  let dir = path;
  let info = await stat(dir).catch(() => undefined);
  while (!info && dirname(dir) !== dir) {
    dir = dirname(dir);
    info = await stat(dir).catch(() => undefined);
  }
  try {
    if (info && !info.isDirectory()) throw Object.assign(new Error(`${dir} is not a directory`), { code: 'ENOTDIR' });
    await access(dir, constants.W_OK);
  } catch (error) {
    const explained = fileSystemError(error, path, action);
    if (explained instanceof GociError && flag === OUTPUT_DIRECTORIES) throw explained;
    const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    const message =
      explained instanceof GociError ? explained.message : `cannot ${action} ${displayPath(path)}: ${reason}`;
    throw new GociError('IO_FAILED', message, { hint: `choose a writable ${flag}`, cause: error });
  }
}
