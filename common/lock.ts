import { link, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { displayPath } from './display-path.js';
import { GociError } from './errors.js';
import { trackTemporary } from './interrupt.js';
import { ownedName, ownerAlive, ownerTag } from './owner.js';

/** How long a run waits for another to release a lock: $GOCI_LOCK_TIMEOUT seconds, default 120. */
function lockTimeoutMs(): number {
  const seconds = Number(process.env.GOCI_LOCK_TIMEOUT);
  return (Number.isFinite(seconds) && seconds > 0 ? seconds : 120) * 1000;
}

async function readOwner(path: string): Promise<string | undefined> {
  return readFile(path, 'utf8').then(
    (text) => text.trim(),
    () => undefined,
  );
}

/**
 * Takes the lock file `path`, created whole in one step (a link of a file already holding the
 * owner tag, which fails if the lock exists), so a reader never sees an empty lock. A lock
 * whose owner no longer runs (kill -9) is stolen: renamed aside (only one stealer's rename
 * wins), and put back if what was renamed turned out to be a live owner's.
 */
async function acquire(path: string): Promise<void> {
  const mine = ownerTag();
  const tmp = `${path}.goci-${ownedName()}.tmp`;
  const forget = trackTemporary(tmp);
  await mkdir(dirname(path), { recursive: true });
  await writeFile(tmp, `${mine}\n`);
  const deadline = Date.now() + lockTimeoutMs();
  try {
    for (let attempt = 0; ; attempt++) {
      const taken = await link(tmp, path).then(
        () => true,
        async (error: NodeJS.ErrnoException) => {
          if (error.code === 'EEXIST') return false;
          if (error.code !== 'EPERM' && error.code !== 'ENOTSUP' && error.code !== 'EOPNOTSUPP') throw error;
          // A file system without hard links: an exclusive create (the owner tag follows at once).
          return writeFile(path, `${mine}\n`, { flag: 'wx' }).then(
            () => true,
            (failure: NodeJS.ErrnoException) => {
              if (failure.code === 'EEXIST') return false;
              throw failure;
            },
          );
        },
      );
      if (taken) return;
      const owner = await readOwner(path);
      if (owner === undefined) continue;
      if (!ownerAlive(owner)) {
        const aside = `${path}.goci-${ownedName()}.stale`;
        if (
          !(await rename(path, aside).then(
            () => true,
            () => false,
          ))
        )
          continue;
        const moved = await readOwner(aside);
        if (moved !== owner) await link(aside, path).catch(() => undefined);
        await rm(aside, { force: true });
        continue;
      }
      if (Date.now() > deadline) {
        const who = `another goci run (pid ${owner.split('-')[0]})`;
        const waited = `${lockTimeoutMs() / 1000} s`;
        const message = `${who} holds the lock ${displayPath(path)} and did not release it in ${waited}`;
        throw new GociError('IO_FAILED', message, {
          hint: 'wait for that run to finish; raise the wait with GOCI_LOCK_TIMEOUT=<seconds>',
        });
      }
      await sleep(Math.min(200, 10 * (attempt + 1)) + Math.random() * 20);
    }
  } finally {
    forget();
    await rm(tmp, { force: true });
  }
}

/** Runs `work` holding the lock file `path`; the lock is released however `work` ends. */
export async function withLock<T>(path: string, work: () => Promise<T>): Promise<T> {
  await acquire(path);
  const forget = trackTemporary(path);
  try {
    return await work();
  } finally {
    forget();
    if ((await readOwner(path)) === ownerTag()) await rm(path, { force: true });
  }
}
