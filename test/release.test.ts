import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { execa } from 'execa';
import { goci } from './support/goci.js';
import {
  FIXTURE_COMMIT_TIME,
  exampleRepository,
  git,
  listFiles,
  removeDirectory,
  temporaryDirectory,
} from './support/workspace.js';

const PLATFORMS = 'linux/amd64,linux/arm64,windows/amd64';
const ARCHIVES = [
  'checksums.txt',
  'hello_1.0.0_linux_amd64.tar.gz',
  'hello_1.0.0_linux_arm64.tar.gz',
  'hello_1.0.0_windows_amd64.zip',
];

interface Snapshot {
  files: Map<string, Buffer>;
}

let origin: string;
let cloneA: string;
let cloneB: string;
let cacheB: string;
let firstRun: Snapshot;
let rerun: Snapshot;
let otherClone: Snapshot;

async function release(dir: string, env: NodeJS.ProcessEnv = process.env): Promise<Snapshot> {
  const result = await goci(['release', '.', '--platform', PLATFORMS], { cwd: dir, env });
  assert.equal(result.exitCode, 0, result.stderr);
  const files = new Map<string, Buffer>();
  for (const name of await listFiles(join(dir, 'dist'))) files.set(name, await readFile(join(dir, 'dist', name)));
  return { files };
}

before(async () => {
  origin = await exampleRepository('hello', 'release-origin');
  await git(origin, 'tag', 'v1.0.0');
  // Different depths and names, so any leaked path would differ between the two.
  cloneA = await temporaryDirectory('a');
  cloneB = join(await temporaryDirectory('second-clone-with-a-longer-path'), 'nested', 'hello');
  cacheB = await temporaryDirectory('gocache');
  await git(origin, 'clone', '-q', origin, join(cloneA, 'hello'));
  await git(origin, 'clone', '-q', origin, cloneB);
  cloneA = join(cloneA, 'hello');
  firstRun = await release(cloneA);
  rerun = await release(cloneA);
  // Cold, separate Go and goci caches: an independent rebuild, not a cache hit.
  otherClone = await release(cloneB, {
    ...process.env,
    GOCACHE: join(cacheB, 'go'),
    GOCI_CACHE_DIR: join(cacheB, 'goci'),
  });
});
after(async () => Promise.all([origin, cloneA, cloneB, cacheB].map(removeDirectory)));

describe('goci release', () => {
  test('writes one archive per target, a zip for Windows, and checksums.txt', () => {
    assert.deepEqual(
      [...firstRun.files.keys()].filter((name) => name.startsWith('release/')).map((name) => name.slice(8)),
      ARCHIVES,
    );
  });

  test('checksums.txt passes sha256sum -c', async () => {
    const { stdout } = await execa('sha256sum', ['-c', 'checksums.txt'], { cwd: join(cloneA, 'dist', 'release') });
    assert.equal(
      stdout,
      ARCHIVES.slice(1)
        .map((name) => `${name}: OK`)
        .join('\n'),
    );
  });

  test('a tar.gz holds the README 0644 and the binary 0755 (byte order), owned 0/0, dated at the commit', async () => {
    const { stdout } = await execa(
      'tar',
      ['--numeric-owner', '--full-time', '-tvzf', join(cloneA, 'dist', 'release', 'hello_1.0.0_linux_amd64.tar.gz')],
      { env: { TZ: 'UTC' } },
    );
    const stamp = new Date(FIXTURE_COMMIT_TIME * 1000).toISOString().replace('T', ' ').replace('.000Z', '');
    const lines = stdout.split('\n').map((line) => line.replace(/\s+/g, ' ').split(' '));
    assert.deepEqual(
      lines.map((fields) => [fields[0], fields[1], `${fields[3]} ${fields[4]}`, fields[5]]),
      [
        ['-rw-r--r--', '0/0', stamp, 'README.md'],
        ['-rwxr-xr-x', '0/0', stamp, 'hello'],
      ],
    );
  });

  test('the Windows zip holds hello.exe and the README', async () => {
    const { stdout } = await execa('unzip', ['-Z1', join(cloneA, 'dist', 'release', 'hello_1.0.0_windows_amd64.zip')]);
    assert.deepEqual(stdout.split('\n'), ['README.md', 'hello.exe']);
  });

  test('a rerun gives byte-identical binaries and archives', () => {
    assert.deepEqual([...rerun.files.keys()], [...firstRun.files.keys()]);
    for (const [name, bytes] of firstRun.files)
      assert.ok(bytes.equals(rerun.files.get(name)!), `${name} changed on rerun`);
  });

  test('two clones at different paths, one with a cold Go cache, give byte-identical output', () => {
    assert.deepEqual([...otherClone.files.keys()], [...firstRun.files.keys()]);
    for (const [name, bytes] of firstRun.files)
      assert.ok(bytes.equals(otherClone.files.get(name)!), `${name} differs between clones`);
  });

  test("no binary or archive contains either clone's path", () => {
    for (const snapshot of [firstRun, otherClone]) {
      for (const [name, bytes] of snapshot.files) {
        for (const path of [cloneA, cloneB]) assert.ok(!bytes.includes(path), `${name} contains ${path}`);
      }
    }
  });
});
