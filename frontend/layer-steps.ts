import { posix } from 'node:path';
import type { PlannedEntry } from '../images/file-entries.js';
import type { LlbFile } from './context-files.js';
import type { FileStep } from './llb/file.js';

/** Parents nobody listed, as the CLI's tar layers have them (images/layer.ts): 0755, owned by root. */
const IMPLICIT_DIRECTORY = { mode: 0o755, uid: 0, gid: 0 };

/**
 * One layer's planned entries as the steps of one FileOp: first the parents no entry names (made
 * as the CLI's layers make them, so a copy never creates them with its own owner), then each
 * entry with its mode and owner, every time `epoch`. A file or link is copied from where the
 * frontend found it (the context, a go build output); a link is copied as the link itself.
 */
export function layerSteps(entries: PlannedEntry<LlbFile>[], epoch: number): FileStep[] {
  const listed = new Set(entries.map((entry) => clean(entry.path)));
  const parents = [...new Set(entries.flatMap((entry) => ancestors(clean(entry.path))))]
    .filter((dir) => !listed.has(dir))
    .sort();
  return [
    ...parents.map((path): FileStep => ({ kind: 'mkdir', path, ...IMPLICIT_DIRECTORY, timestamp: epoch })),
    ...entries.map((entry) => entryStep(entry, epoch)),
  ];
}

function entryStep(entry: PlannedEntry<LlbFile>, epoch: number): FileStep {
  const path = clean(entry.path);
  const owner = { uid: entry.uid, gid: entry.gid, timestamp: epoch };
  if (entry.type === 'directory') return { kind: 'mkdir', path, mode: entry.mode, ...owner };
  const copy = { kind: 'copy' as const, from: entry.source.from, src: entry.source.path, dest: path, ...owner };
  if (entry.type === 'symlink') return { ...copy, followSymlink: false };
  return { ...copy, mode: entry.mode };
}

/** `/srv/web/a.txt` → `/srv`, `/srv/web`. */
function ancestors(path: string): string[] {
  const parts = path.split('/').filter(Boolean).slice(0, -1);
  return parts.map((_, position) => `/${parts.slice(0, position + 1).join('/')}`);
}

function clean(path: string): string {
  return posix.join('/', path).replace(/\/$/, '') || '/';
}
