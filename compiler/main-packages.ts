import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

/** Directories the go command never builds packages from: vendored code, test data, hidden and `_` ones. */
const SKIPPED_DIRECTORY = /^(vendor|testdata|node_modules|[._].*)$/;
/** How many directories the search reads at most: a message, not a crawl of a huge tree. */
const MAX_DIRECTORIES = 500;
const MAX_LISTED = 6;

/**
 * `./cmd/app`-style paths of the directories below `root` whose Go files say `package main`,
 * breadth first (`.` first when `root` itself is one and `withRoot` is set).
 */
export async function findMainPackages(root: string, withRoot = false): Promise<string[]> {
  const found: string[] = [];
  const queue = [''];
  for (let read = 0; queue.length > 0 && read < MAX_DIRECTORIES && found.length < MAX_LISTED; read++) {
    const relative = queue.shift()!;
    const entries = await readdir(join(root, relative), { withFileTypes: true }).catch(() => []);
    const sources = entries.filter((entry) => entry.isFile() && /(?<!_test)\.go$/.test(entry.name));
    const names = sources.map((entry) => entry.name);
    if ((relative !== '' || withRoot) && (await declaresMain(join(root, relative), names)))
      found.push(relative === '' ? '.' : `./${relative}`);
    for (const entry of entries)
      if (entry.isDirectory() && !SKIPPED_DIRECTORY.test(entry.name)) queue.push(join(relative, entry.name));
  }
  return found;
}

async function declaresMain(dir: string, files: string[]): Promise<boolean> {
  for (const name of files.sort()) {
    if (/^\s*package\s+main\b/m.test(await readFile(join(dir, name), 'utf8').catch(() => ''))) return true;
  }
  return false;
}
