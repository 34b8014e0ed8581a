import { readFile, stat } from 'node:fs/promises';
import { GociError } from '../common/errors.js';
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

/** The module path its go.mod declares (`module example.com/app`), read from the module root. */
export async function readModulePath(root: string): Promise<string> {
  const file = join(root, 'go.mod');
  const text = await readFile(file, 'utf8');
  const path = /^\s*module\s+"?([^\s"]+)"?\s*(?:\/\/.*)?$/m.exec(text)?.[1];
  if (path === undefined) throw new GociError('BAD_SPEC', `${file}: no module line`, { hint: 'run go mod init' });
  return path;
}

/** The Go release a go.mod's `go` directive names, as major.minor (`go 1.21.3` → `1.21`); undefined without one. */
export function goDirectiveRelease(goMod: string): string | undefined {
  const match = /^\s*go\s+(\d+)\.(\d+)/m.exec(goMod);
  return match ? `${match[1]}.${match[2]}` : undefined;
}
