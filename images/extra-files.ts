import { readdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { GociError } from '../common/errors.js';
import type { FileSpec } from '../spec/schema.js';
import type { LayerEntry } from './layer.js';

/** Files without an explicit mode: executable on disk stays executable, anything else is 0644. */
function defaultMode(hostMode: number): number {
  return hostMode & 0o111 ? 0o755 : 0o644;
}

/**
 * The layer entries for `image.files`: a file goes to `dst`, a directory's whole tree goes
 * below `dst`. Sources are relative to the spec's directory; modes and owners come from the
 * spec, never from the machine, so the layer is the same everywhere.
 */
export async function extraFileEntries(files: FileSpec[], baseDir: string, where: (path: string) => string): Promise<LayerEntry[]> {
  const entries: LayerEntry[] = [];
  for (const file of files) {
    const source = resolve(baseDir, file.src);
    const info = await stat(source).catch(() => undefined);
    if (!info) throw new GociError('NOT_FOUND', `${where(`${file.path}.src`)}: ${file.src} does not exist`, { hint: 'paths in image.files are relative to the goci.yaml directory' });
    if (info.isDirectory()) entries.push(...(await treeEntries(source, file.dst, file)));
    else entries.push({ type: 'file', path: file.dst, mode: file.mode ?? defaultMode(info.mode), uid: file.uid, gid: file.gid, source });
  }
  rejectDuplicateDestinations(entries, where);
  return entries;
}

async function treeEntries(dir: string, dst: string, file: FileSpec): Promise<LayerEntry[]> {
  const entries: LayerEntry[] = [{ type: 'directory', path: dst, mode: 0o755, uid: file.uid, gid: file.gid }];
  for (const name of (await readdir(dir)).sort()) {
    const source = join(dir, name);
    const info = await stat(source);
    const path = `${dst}/${name}`;
    if (info.isDirectory()) entries.push(...(await treeEntries(source, path, file)));
    else if (info.isFile()) entries.push({ type: 'file', path, mode: file.mode ?? defaultMode(info.mode), uid: file.uid, gid: file.gid, source });
  }
  return entries;
}

function rejectDuplicateDestinations(entries: LayerEntry[], where: (path: string) => string): void {
  const seen = new Set<string>();
  for (const entry of entries) {
    if (seen.has(entry.path)) {
      throw new GociError('BAD_SPEC', `${where('image.files')}: two files are copied to ${entry.path}`, { hint: 'give each file its own dst' });
    }
    seen.add(entry.path);
  }
}
