import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { temporarySibling } from '../common/atomic.js';
import { cloneFile } from '../common/publish.js';

/** The sha256 hex of a file's bytes, or undefined when it cannot be read (gone, unreadable). */
export async function hashFile(path: string): Promise<string | undefined> {
  const hash = createHash('sha256');
  try {
    const sink = new Writable({
      write: (chunk: Buffer, _encoding, done) => {
        hash.update(chunk);
        done();
      },
    });
    await pipeline(createReadStream(path), sink);
    return hash.digest('hex');
  } catch {
    return undefined;
  }
}

export type CopyOutcome = 'copied' | 'missing' | 'corrupt';

/**
 * Copies the blob `source` to `target` (a reflink where the file system offers one, else a
 * copy: never a hard link, so the output shares no inode with the source) and checks the copy
 * against `hex` before renaming it into place. A source that vanished (pruned by another run)
 * is 'missing'; one whose bytes do not match is 'corrupt'; in both cases nothing is written.
 */
export async function copyVerifiedBlob(source: string, target: string, hex: string): Promise<CopyOutcome> {
  const tmp = temporarySibling(target);
  try {
    try {
      await cloneFile(source, tmp);
    } catch (error) {
      const { code, path } = error as NodeJS.ErrnoException;
      if (code === 'ENOENT' && path === source) return 'missing';
      throw error;
    }
    if ((await hashFile(tmp)) !== hex) return 'corrupt';
    await rename(tmp, target);
    return 'copied';
  } finally {
    await rm(tmp, { force: true });
  }
}
