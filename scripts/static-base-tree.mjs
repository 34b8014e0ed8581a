#!/usr/bin/env node
// Writes the built-in static base's filesystem (the entries of the CLI's base layer) into DIR,
// as goci's frontend image holds it under /goci/base/static (images/frontend-image.ts):
// directories, files and symlinks with their modes, and their owners when run as root.
// Dockerfile.frontend runs it after `npm run build` (it reads lib/images/base/static.js).
//   node scripts/static-base-tree.mjs DIR
import { copyFile, chmod, lchown, mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { staticBase } from '../lib/images/base/static.js';

const [dir] = process.argv.slice(2);
if (!dir) {
  process.stderr.write('usage: node scripts/static-base-tree.mjs DIR\n');
  process.exit(2);
}
const asRoot = process.getuid?.() === 0;
const { entries } = await staticBase('nonroot');
await mkdir(dir, { recursive: true });
// Parents before children; modes last for directories, so a 0700 one can still be written into.
const sorted = [...entries].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
for (const entry of sorted) {
  const path = join(dir, entry.path);
  if (entry.type === 'directory') await mkdir(path, { recursive: true });
  else if (entry.type === 'symlink') await symlink(entry.target, path);
  else if ('content' in entry) await writeFile(path, entry.content);
  else await copyFile(entry.source, path);
}
for (const entry of sorted.reverse()) {
  const path = join(dir, entry.path);
  if (entry.type !== 'symlink') await chmod(path, entry.mode);
  if (asRoot) await lchown(path, entry.uid, entry.gid);
}
