import { stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** What goci writes into an output directory it creates: git then ignores the directory whole. */
export const IGNORE_EVERYTHING = '# Written by goci: its outputs are not sources.\n*\n';

/**
 * Notes whether `root` (goci's dist) exists now, before a run writes anything there (staging
 * directories included); the function returned, called once the outputs are published, gives a
 * `root` this run created a .gitignore holding `*`, so goci's outputs never make the next
 * build's tree dirty (neither goci's version nor Go's vcs.modified). A directory that was there
 * is left as it is.
 */
export async function ignoreIfCreated(root: string | undefined): Promise<() => Promise<void>> {
  const existed =
    root === undefined ||
    (await stat(root).then(
      () => true,
      () => false,
    ));
  return async () => {
    // 'wx': never replaces a file another run (or the user) put there meanwhile.
    if (!existed) await writeFile(join(root, '.gitignore'), IGNORE_EVERYTHING, { flag: 'wx' }).catch(() => undefined);
  };
}
