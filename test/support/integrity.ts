import { createHash } from 'node:crypto';
import { readdir, readFile, lstat, readlink } from 'node:fs/promises';
import { join } from 'node:path';

/** sha256 hex of a file. */
export async function fileSha256(path: string): Promise<string> {
  return createHash('sha256')
    .update(await readFile(path))
    .digest('hex');
}

/** The blobs of an OCI layout whose bytes do not hash to their name (empty when every blob verifies). */
export async function badBlobs(layout: string): Promise<string[]> {
  const dir = join(layout, 'blobs', 'sha256');
  const bad: string[] = [];
  for (const name of (await readdir(dir)).sort()) {
    if ((await fileSha256(join(dir, name))) !== name) bad.push(name);
  }
  return bad;
}

/** The blob names in a layout. */
export async function blobNames(layout: string): Promise<string[]> {
  return (await readdir(join(layout, 'blobs', 'sha256'))).sort();
}

/**
 * Every entry below `dir` (directories, files with their mode and sha256, symlinks with their
 * target), sorted: two equal snapshots mean the tree is byte-identical. Missing dir → [].
 */
export async function snapshot(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true }).catch(() => undefined);
  if (entries === undefined) return [];
  const lines: string[] = [];
  for (const name of entries.sort()) {
    const path = join(dir, name);
    const info = await lstat(path);
    const mode = (info.mode & 0o7777).toString(8);
    if (info.isDirectory()) lines.push(`d ${mode} ${name}`);
    else if (info.isSymbolicLink()) lines.push(`l ${name} -> ${await readlink(path)}`);
    else lines.push(`f ${mode} ${name} ${await fileSha256(path)}`);
  }
  return lines;
}

/** Whether a path exists at all (a missing output directory must stay missing). */
export async function exists(path: string): Promise<boolean> {
  return lstat(path).then(
    () => true,
    () => false,
  );
}

/** The pids whose parent is `pid`. */
export async function childPids(pid: number): Promise<number[]> {
  const found: number[] = [];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const stat = await readFile(`/proc/${name}/stat`, 'utf8').catch(() => '');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(fields[1]) === pid) found.push(Number(name));
  }
  return found;
}

/** The process-start token goci writes into its lock files (field 22 of /proc/<pid>/stat). */
export async function startToken(pid: number): Promise<string> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]!;
}

/** Overwrites a file's bytes in place (same inode, same size): what a disk error or a stray writer does. */
export async function corruptInPlace(path: string): Promise<void> {
  const { open } = await import('node:fs/promises');
  const handle = await open(path, 'r+');
  try {
    const { size } = await handle.stat();
    const junk = Buffer.alloc(Math.min(size, 64), 0x5a);
    await handle.write(junk, 0, junk.length, Math.floor(size / 2) - Math.min(Math.floor(size / 2), 32));
  } finally {
    await handle.close();
  }
}
