import { copyFile, mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { ownedName } from './owner.js';

/**
 * A sibling path in the same directory, so the final rename never crosses file systems. Its
 * name carries this process's owner tag, so a later run sweeps it if this process dies. `kind`
 * 'old' names the copy a publish keeps of the file it replaces until the publish is over.
 */
export function temporarySibling(finalPath: string, kind: 'tmp' | 'old' = 'tmp'): string {
  return join(dirname(finalPath), `.${basename(finalPath)}.goci-${ownedName()}.${kind}`);
}

/** Writes the whole file next to its destination, then renames it into place. */
export async function writeFileAtomic(finalPath: string, data: string | Uint8Array, mode = 0o644): Promise<void> {
  await mkdir(dirname(finalPath), { recursive: true });
  const tmp = temporarySibling(finalPath);
  try {
    await writeFile(tmp, data, { mode });
    await rename(tmp, finalPath);
  } catch (error) {
    await rm(tmp, { force: true });
    throw error;
  }
}

/**
 * Moves a finished file from a scratch location into place. A rename is atomic but fails
 * across devices (the scratch dir is often on tmpfs), so then it copies beside the
 * destination first and renames that.
 */
export async function moveIntoPlace(source: string, finalPath: string): Promise<void> {
  await mkdir(dirname(finalPath), { recursive: true });
  try {
    await rename(source, finalPath);
    return;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EXDEV') throw error;
  }
  const tmp = temporarySibling(finalPath);
  try {
    await copyFile(source, tmp);
    await rename(tmp, finalPath);
    await rm(source, { force: true });
  } catch (error) {
    await rm(tmp, { force: true });
    throw error;
  }
}
