import { lstat, readFile, realpath } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { isInside } from '../common/inside.js';
import type { Module } from './binary/types.js';

/** An import path as vndr writes one: host/and/elements, none empty, `.` or `..`, no backslash. */
const IMPORT_PATH = /^[A-Za-z0-9][A-Za-z0-9._~-]*(\/[A-Za-z0-9._~+-]+)*$/;
const VERSION = /^[A-Za-z0-9][A-Za-z0-9._+-]*$/;

/**
 * A GOPATH project's vendored packages as its vendor.conf (vndr's file: `import/path version
 * [repository]` per line) pins them, kept where vendor/ really holds them. Go records no
 * dependencies in a GOPATH-mode binary, so this is the only account of them; undefined without a
 * vendor.conf between `cwd` and `top` (the build context, within $GOPATH/src). A line that is not
 * an import path and a version is left out, as is a path that leaves vendor/ through a symlink.
 */
export async function readVendorConf(cwd: string, top: string): Promise<Module[] | undefined> {
  for (let dir = cwd; isInside(dir, top); dir = dirname(dir)) {
    const file = join(dir, 'vendor.conf');
    const info = await lstat(file).catch(() => undefined);
    if (info?.isFile()) return vendoredModules(dir, await readFile(file, 'utf8'));
    if (dir === top) return undefined;
  }
  return undefined;
}

async function vendoredModules(projectDir: string, text: string): Promise<Module[]> {
  const vendor = await realpath(join(projectDir, 'vendor')).catch(() => undefined);
  if (vendor === undefined) return [];
  const pinned = text
    .split('\n')
    .map((line) => line.replace(/#.*/, '').trim().split(/\s+/))
    .filter((fields): fields is [string, string, ...string[]] => fields.length >= 2)
    .filter(
      ([path, version]) =>
        IMPORT_PATH.test(path) &&
        !path.split('/').some((element) => element === '.' || element === '..') &&
        VERSION.test(version),
    );
  const kept = await Promise.all(
    pinned.map(async ([path, version]) => {
      const real = await realpath(join(vendor, ...path.split('/'))).catch(() => undefined);
      return real !== undefined && isInside(real, vendor) && real !== vendor ? { path, version } : undefined;
    }),
  );
  return kept.filter((module): module is Module => module !== undefined);
}
