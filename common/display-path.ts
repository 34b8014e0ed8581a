import { relative } from 'node:path';

/** A path as a person wants to read it: relative when under the working directory, else absolute. */
export function displayPath(path: string): string {
  const fromCwd = relative(process.cwd(), path);
  return fromCwd === '' || fromCwd.startsWith('..') ? path : fromCwd;
}
