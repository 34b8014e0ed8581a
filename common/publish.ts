import { constants } from 'node:fs';
import { copyFile, mkdir, rename, rm, rmdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { temporarySibling } from './atomic.js';
import { trackTemporary } from './interrupt.js';
import { fileSystemError } from './io-error.js';

/** A finished file and where it goes. */
export interface PublishedFile {
  from: string;
  to: string;
}

/**
 * Creates `dir` and its missing parents, returning the ones it created, deepest first, so a
 * rollback can remove exactly those (and only while empty: another run may use them now).
 */
export async function makeDirectories(dir: string): Promise<string[]> {
  const first = await mkdir(dir, { recursive: true }).catch((error: NodeJS.ErrnoException) => {
    // mkdir -p says EEXIST when a file stands where a directory should be.
    if (error.code === 'EEXIST') {
      throw Object.assign(new Error(`${dir}: not a directory`), { code: 'ENOTDIR', path: error.path });
    }
    throw error;
  });
  if (first === undefined) return [];
  const created: string[] = [];
  for (let current = dir; ; current = dirname(current)) {
    created.push(current);
    if (current === first || dirname(current) === current) return created;
  }
}

export async function removeEmptyDirectories(created: readonly string[]): Promise<void> {
  for (const dir of created) await rmdir(dir).catch(() => undefined);
}

/** Copies, as a reflink where the file system can (a copy that shares no blocks it can write). */
export async function cloneFile(from: string, to: string): Promise<void> {
  await copyFile(from, to, constants.COPYFILE_FICLONE);
}

/**
 * Publishes several files as one step. prepare() puts each file beside its destination under a
 * temporary name (a rename, or a copy across file systems: this is where a full disk shows);
 * commit() renames them into place, keeping what they replace; rollback() undoes either, so a
 * failed run leaves every destination as it was; finish() drops the replaced files.
 */
export class FilePublication {
  private readonly staged: { temp: string; to: string; backup?: string; placed: boolean }[] = [];
  private readonly created: string[] = [];
  private readonly forget: (() => void)[] = [];

  constructor(private readonly files: readonly PublishedFile[]) {}

  async prepare(): Promise<void> {
    for (const { from, to } of this.files) {
      const dir = dirname(to);
      this.created.unshift(
        ...(await makeDirectories(dir).catch((error: unknown) => {
          throw fileSystemError(error, dir, 'create');
        })),
      );
      const temp = temporarySibling(to);
      this.forget.push(trackTemporary(temp));
      this.staged.push({ temp, to, placed: false });
      try {
        await rename(from, temp).catch(async (error: NodeJS.ErrnoException) => {
          if (error.code !== 'EXDEV') throw error;
          await cloneFile(from, temp);
        });
      } catch (error) {
        throw fileSystemError(error, to);
      }
    }
  }

  async commit(): Promise<void> {
    for (const entry of this.staged) {
      try {
        const backup = temporarySibling(entry.to, 'old');
        const forget = trackTemporary(backup);
        // No stat first: another run publishing the same path may move it meanwhile (goci compile
        // takes no lock on dist), and nothing there now is simply nothing to keep.
        const kept = await rename(entry.to, backup).then(
          () => true,
          (error: NodeJS.ErrnoException) => {
            if (error.code === 'ENOENT') return false;
            throw error;
          },
        );
        if (kept) {
          entry.backup = backup;
          this.forget.push(forget);
        } else {
          forget();
        }
        await rename(entry.temp, entry.to);
        entry.placed = true;
      } catch (error) {
        throw fileSystemError(error, entry.to);
      }
    }
  }

  async rollback(): Promise<void> {
    for (const entry of [...this.staged].reverse()) {
      if (entry.placed) await rm(entry.to, { force: true }).catch(() => undefined);
      if (entry.backup) await rename(entry.backup, entry.to).catch(() => undefined);
      await rm(entry.temp, { force: true }).catch(() => undefined);
    }
    await removeEmptyDirectories(this.created);
    for (const forget of this.forget) forget();
  }

  async finish(): Promise<void> {
    for (const entry of this.staged) if (entry.backup) await rm(entry.backup, { force: true }).catch(() => undefined);
    for (const forget of this.forget) forget();
  }

  /** prepare + commit, rolled back as a whole on any failure. */
  async publish(): Promise<void> {
    try {
      await this.prepare();
      await this.commit();
    } catch (error) {
      await this.rollback();
      throw error;
    }
    await this.finish();
  }
}
