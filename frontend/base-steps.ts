import { readFile } from 'node:fs/promises';
import { posix } from 'node:path';
import type { LayerEntry } from '../images/layer.js';
import type { FileStep } from './llb/file.js';

function absolute(path: string): string {
  return posix.normalize(`/${path}`);
}

/** Follows symlinks among `entries` to the file they end at, if that file is among them. */
function resolveLink(byPath: Map<string, LayerEntry>, path: string): LayerEntry | undefined {
  let current = byPath.get(path);
  for (let hops = 0; current?.type === 'symlink' && hops < 16; hops++) {
    const target = current.target.startsWith('/')
      ? current.target
      : posix.join(posix.dirname(current.path), current.target);
    current = byPath.get(absolute(target));
  }
  return current?.type === 'symlink' ? undefined : current;
}

/**
 * The same base files the CLI writes as a layer, as LLB file steps (BuildKit builds the layer).
 * BuildKit v0.8's FileOp has no symlink action, so a symlink becomes a copy of the file it
 * points to (zoneinfo's aliases; /etc/os-release); one pointing outside the base is left out.
 */
export async function baseSteps(entries: readonly LayerEntry[], epoch: number): Promise<FileStep[]> {
  const normalised = entries.map((entry) => ({ ...entry, path: absolute(entry.path) }) as LayerEntry);
  const byPath = new Map(normalised.map((entry) => [entry.path, entry]));
  const steps: FileStep[] = [];
  for (const entry of [...normalised].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))) {
    const file = entry.type === 'symlink' ? resolveLink(byPath, entry.path) : entry;
    if (!file) continue;
    if (file.type === 'directory') {
      steps.push({ kind: 'mkdir', path: entry.path, mode: file.mode, uid: file.uid, gid: file.gid, timestamp: epoch });
    } else if (file.type === 'file') {
      const data = 'content' in file ? file.content : new Uint8Array(await readFile(file.source));
      steps.push({
        kind: 'mkfile',
        path: entry.path,
        mode: file.mode,
        data,
        uid: file.uid,
        gid: file.gid,
        timestamp: epoch,
      });
    }
  }
  return steps;
}
