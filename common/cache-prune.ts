import { readFile, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { sweepDeadOwners } from './owner.js';

/**
 * Keeps a cache directory of content-addressed blobs (named by their sha256 hex) and JSON
 * records pointing at them (`{"digest": "sha256:…"}`) under `maxBytes`: drops the least
 * recently used blobs (callers touch a blob's mtime when they use it), never `keep`, then every
 * record whose blob is gone. Other runs may share the directory: an entry that vanishes while
 * this runs is skipped, and temporary files of runs that died are swept.
 */
export async function pruneCache(cacheDir: string, maxBytes: number, keep: string): Promise<void> {
  await sweepDeadOwners(cacheDir);
  const names = await readdir(cacheDir);
  const hashes = names.filter((name) => /^[0-9a-f]{64}$/.test(name));
  const found = await Promise.all(
    hashes.map(async (name) => ({ name, info: await stat(join(cacheDir, name)).catch(() => undefined) })),
  );
  const blobs = found.flatMap((blob) => (blob.info ? [{ name: blob.name, info: blob.info }] : []));
  let total = blobs.reduce((sum, blob) => sum + blob.info.size, 0);
  if (total <= maxBytes) return;
  const dropped = new Set<string>();
  for (const blob of blobs.sort((a, b) => a.info.mtimeMs - b.info.mtimeMs)) {
    if (total <= maxBytes) break;
    if (blob.name === keep) continue;
    await rm(join(cacheDir, blob.name), { force: true });
    dropped.add(blob.name);
    total -= blob.info.size;
  }
  for (const name of names.filter((file) => file.endsWith('.json'))) {
    const record = await readFile(join(cacheDir, name), 'utf8').then(
      (text) => JSON.parse(text) as { digest?: unknown },
      () => undefined,
    );
    const digest = typeof record?.digest === 'string' ? record.digest.replace(/^sha256:/, '') : undefined;
    if (!digest || dropped.has(digest)) await rm(join(cacheDir, name), { force: true });
  }
}
