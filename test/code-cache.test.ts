import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile, readdir, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { after, describe, test } from 'node:test';
import { goci } from './support/goci.js';
import { removeDirectory, temporaryDirectory } from './support/workspace.js';

const made: string[] = [];
after(async () => Promise.all(made.map(removeDirectory)));

async function cacheDir(): Promise<string> {
  const dir = await temporaryDirectory('code-cache');
  made.push(dir);
  return join(dir, 'code');
}

/** `goci --version` with its compiled code kept in `dir`; the version it prints. */
async function version(env: NodeJS.ProcessEnv): Promise<string> {
  const result = await goci(['--version'], { env: { ...process.env, ...env } });
  assert.equal(result.exitCode, 0, result.stderr);
  return result.stdout.trim();
}

/** The one file the cache holds, and whether its checksum (its first 32 bytes) matches the rest. */
async function onlyEntry(dir: string): Promise<{ path: string; intact: boolean }> {
  const names = await readdir(dir);
  assert.equal(names.length, 1, names.join(', '));
  const path = join(dir, names[0]!);
  const bytes = await readFile(path);
  const sum = createHash('sha256').update(bytes.subarray(32)).digest();
  return { path, intact: bytes.length > 32 && sum.equals(bytes.subarray(0, 32)) };
}

describe("V8's code cache for the CLI", () => {
  test('the first run keeps the compiled code and the next runs use it without writing it again', async () => {
    const dir = await cacheDir();
    assert.equal(await version({ GOCI_CODE_CACHE: dir }), '0.1.0');
    const { path, intact } = await onlyEntry(dir);
    assert.ok(intact);
    const written = await stat(path);
    assert.equal(await version({ GOCI_CODE_CACHE: dir }), '0.1.0');
    const after = await stat(path);
    // V8 took the code: a refused cache would have been written anew under the same name.
    assert.deepEqual([after.ino, after.mtimeMs], [written.ino, written.mtimeMs]);
  });

  test('a damaged cache file is not used: goci compiles afresh and replaces it', async () => {
    const dir = await cacheDir();
    await version({ GOCI_CODE_CACHE: dir });
    const { path } = await onlyEntry(dir);
    const bytes = await readFile(path);
    const middle = bytes.length >> 1;
    bytes.writeUInt8(bytes.readUInt8(middle) ^ 0xff, middle);
    await writeFile(path, bytes);
    assert.equal(await version({ GOCI_CODE_CACHE: dir }), '0.1.0');
    const replaced = await onlyEntry(dir);
    assert.ok(replaced.intact);
    assert.notDeepEqual(await readFile(path), bytes);
  });

  test('GOCI_CODE_CACHE=off writes nothing, in the cache home or anywhere else', async () => {
    const home = await temporaryDirectory('code-cache-home');
    made.push(home);
    assert.equal(await version({ GOCI_CODE_CACHE: 'off', XDG_CACHE_HOME: home }), '0.1.0');
    assert.deepEqual(await readdir(home), []);
  });

  test('by default it is kept in the cache home, apart from GOCI_CACHE_DIR', async () => {
    const home = await temporaryDirectory('code-cache-default');
    made.push(home);
    const env = { GOCI_CODE_CACHE: undefined, XDG_CACHE_HOME: home, GOCI_CACHE_DIR: join(home, 'builds') };
    assert.equal(await version(env), '0.1.0');
    assert.deepEqual(await readdir(home), ['goci-code']);
    assert.ok((await onlyEntry(join(home, 'goci-code'))).intact);
  });

  test('four processes starting at once with no cache all run, and leave one intact file', async () => {
    const dir = await cacheDir();
    const versions = await Promise.all([1, 2, 3, 4].map(() => version({ GOCI_CODE_CACHE: dir })));
    assert.deepEqual(versions, ['0.1.0', '0.1.0', '0.1.0', '0.1.0']);
    assert.ok((await onlyEntry(dir)).intact);
  });

  test('files beyond the newest 24 (other commands, other bundle builds) are removed when one is written', async () => {
    const dir = await cacheDir();
    await version({ GOCI_CODE_CACHE: dir });
    const { path: current } = await onlyEntry(dir);
    const others = Array.from({ length: 25 }, (_, index) => join(dir, `${index.toString(16).padStart(64, '0')}.bin`));
    for (const [age, path] of others.entries()) {
      await writeFile(path, 'older build');
      await utimes(path, 1_000_000 + age, 1_000_000 + age);
    }
    await rm(current);
    await version({ GOCI_CODE_CACHE: dir });
    // The file just written and the three newest of the others.
    assert.deepEqual(
      (await readdir(dir)).sort(),
      [basename(current), ...others.slice(2).map((path) => basename(path))].sort(),
    );
  });

  test('each command keeps its own file: a build does not replace what --version compiled', async () => {
    const dir = await cacheDir();
    await version({ GOCI_CODE_CACHE: dir });
    const { path } = await onlyEntry(dir);
    const written = await stat(path);
    const help = await goci(['build', '--help'], { env: { ...process.env, GOCI_CODE_CACHE: dir } });
    assert.equal(help.exitCode, 0, help.stderr);
    const names = await readdir(dir);
    assert.equal(names.length, 2);
    assert.ok(names.includes(basename(path)));
    assert.equal((await stat(path)).mtimeMs, written.mtimeMs);
  });
});
