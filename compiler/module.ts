import { stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { ModuleMode } from './command.js';

/** The Go module a directory belongs to, and whether it vendors its dependencies. */
export interface ModuleFacts {
  root: string | undefined;
  mode: ModuleMode;
}

async function isFile(path: string): Promise<boolean> {
  return stat(path).then(
    (info) => info.isFile(),
    () => false,
  );
}

/**
 * Walks up to the nearest go.mod, as the go command does. `exists` says whether a file is there:
 * on this machine by default; the frontend asks BuildKit about its context.
 */
export async function findModule(
  dir: string,
  exists: (path: string) => Promise<boolean> = isFile,
): Promise<ModuleFacts> {
  for (let current = dir; ; current = dirname(current)) {
    if (await exists(join(current, 'go.mod'))) {
      return { root: current, mode: (await exists(join(current, 'vendor', 'modules.txt'))) ? 'vendor' : 'module' };
    }
    if (dirname(current) === current) return { root: undefined, mode: 'gopath' };
  }
}
