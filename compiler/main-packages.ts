import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

/** Directories the go command never builds packages from: vendored code, test data, hidden and `_` ones. */
const SKIPPED_DIRECTORY = /^(vendor|testdata|node_modules|[._].*)$/;
/** How many directories the search reads at most: a message, not a crawl of a huge tree. */
const MAX_DIRECTORIES = 5000;
/** A file that `//go:build ignore` (or `// +build ignore`) keeps out of every build: `go run gen.go` helpers. */
const IGNORED_FILE = /^\s*\/\/(go:build|\s*\+build)\s+ignore\s*$/m;

export interface MainPackageSearch {
  /** Whether `root` itself is listed (as `.`) when it is a main package. */
  withRoot?: boolean;
  /** Stop after this many (a message lists a few; goci init wants them all). */
  limit?: number;
  /** Read every directory, however many: a package pattern must not miss one (default: at most 5000). */
  exhaustive?: boolean;
}

/**
 * `./cmd/app`-style paths of the directories below `root` whose Go files say `package main`,
 * breadth first, as the module at `root` builds them: not in a nested module (a directory with
 * its own go.mod), not from files `//go:build ignore` leaves out.
 */
export async function findMainPackages(root: string, search: MainPackageSearch = {}): Promise<string[]> {
  const limit = search.limit ?? Number.POSITIVE_INFINITY;
  const found: string[] = [];
  const queue = [''];
  const directories = search.exhaustive ? Number.POSITIVE_INFINITY : MAX_DIRECTORIES;
  for (let read = 0; queue.length > 0 && read < directories && found.length < limit; read++) {
    const relative = queue.shift()!;
    const entries = await readdir(join(root, relative), { withFileTypes: true }).catch(() => []);
    if (relative !== '' && entries.some((entry) => entry.isFile() && entry.name === 'go.mod')) continue;
    const sources = entries.filter((entry) => entry.isFile() && /(?<!_test)\.go$/.test(entry.name));
    const names = sources.map((entry) => entry.name);
    if ((relative !== '' || search.withRoot) && (await declaresMain(join(root, relative), names)))
      found.push(relative === '' ? '.' : `./${relative.split('\\').join('/')}`);
    for (const entry of entries)
      if (entry.isDirectory() && !SKIPPED_DIRECTORY.test(entry.name)) queue.push(join(relative, entry.name));
  }
  return found;
}

async function declaresMain(dir: string, files: string[]): Promise<boolean> {
  for (const name of files.sort()) {
    const text = await readFile(join(dir, name), 'utf8').catch(() => '');
    const clause = /^\s*package\s+(\w+)/m.exec(text);
    if (clause?.[1] !== 'main') continue;
    // Build constraints come before the package clause.
    if (!IGNORED_FILE.test(text.slice(0, clause.index))) return true;
  }
  return false;
}
