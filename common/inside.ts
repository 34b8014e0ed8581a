import { isAbsolute, relative, sep } from 'node:path';

/** True when `path` is `dir` or below it (both real, absolute paths). */
export function isInside(path: string, dir: string): boolean {
  const rel = relative(dir, path);
  return rel === '' || (!isAbsolute(rel) && rel !== '..' && !rel.startsWith(`..${sep}`));
}
