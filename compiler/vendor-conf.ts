import { readFile, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { isInside } from '../common/inside.js';
import type { Module } from './binary/types.js';

/**
 * A GOPATH project's vendored packages as its vendor.conf (vndr's file: `import/path version
 * [repository]` per line) pins them, kept where vendor/ holds them. Go records no dependencies in
 * a GOPATH-mode binary, so this is the only account of them; undefined without a vendor.conf
 * between `cwd` and the GOPATH `src` directory it is in.
 */
export async function readVendorConf(cwd: string, gopathSrc: string): Promise<Module[] | undefined> {
  for (let dir = cwd; isInside(dir, gopathSrc) && dir !== gopathSrc; dir = dirname(dir)) {
    const text = await readFile(join(dir, 'vendor.conf'), 'utf8').catch(() => undefined);
    if (text !== undefined) return vendoredModules(dir, text);
  }
  return undefined;
}

async function vendoredModules(projectDir: string, text: string): Promise<Module[]> {
  const pinned = text
    .split('\n')
    .map((line) => line.replace(/#.*/, '').trim().split(/\s+/))
    .filter((fields): fields is [string, string, ...string[]] => fields.length >= 2 && fields[0] !== '');
  const kept = await Promise.all(
    pinned.map(async ([path, version]) => {
      const vendored = await stat(join(projectDir, 'vendor', ...path.split('/'))).catch(() => undefined);
      return vendored?.isDirectory() ? { path, version } : undefined;
    }),
  );
  return kept.filter((module): module is Module => module !== undefined);
}
