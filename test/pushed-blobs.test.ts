import assert from 'node:assert/strict';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { execa } from 'execa';
import { PushedBlobs } from '../registry/pushed-blobs.js';
import { removeDirectory, temporaryDirectory } from './support/workspace.js';

const digest = (n: number): string => `sha256:${n.toString(16).padStart(64, '0')}`;
const MODULE = pathToFileURL(fileURLToPath(new URL('../registry/pushed-blobs.js', import.meta.url))).href;

let work: string;
before(async () => {
  work = await temporaryDirectory('pushed-blobs');
});
after(async () => removeDirectory(work));

describe('the record of pushed blobs', () => {
  test('names the repository a blob was last pushed to, never the target itself', async () => {
    const cache = join(work, 'names');
    const pushed = await PushedBlobs.open('registry.example:5000', cache);
    await pushed.record('team/api', [digest(1), digest(2)]);
    await pushed.record('team/worker', [digest(2)]);
    const reopened = await PushedBlobs.open('registry.example:5000', cache);
    assert.deepEqual(
      [
        reopened.sourceFor(digest(1), 'team/new'),
        reopened.sourceFor(digest(2), 'team/new'),
        reopened.sourceFor(digest(2), 'team/worker'),
        reopened.sourceFor(digest(1), 'team/api'),
        reopened.sourceFor(digest(3), 'team/new'),
      ],
      ['team/api', 'team/worker', 'team/api', undefined, undefined],
    );
  });

  test("is kept per registry: another registry's record names nothing", async () => {
    const cache = join(work, 'per-registry');
    await (await PushedBlobs.open('one.example', cache)).record('team/api', [digest(1)]);
    assert.equal((await PushedBlobs.open('two.example', cache)).sourceFor(digest(1), 'team/new'), undefined);
  });

  test('skips a broken line (a write cut short) and reads the rest', async () => {
    const cache = join(work, 'broken');
    await (await PushedBlobs.open('r.example', cache)).record('team/api', [digest(1)]);
    const [log] = await readdir(join(cache, 'pushed-blobs'));
    const path = join(cache, 'pushed-blobs', log!);
    await writeFile(path, `${await readFile(path, 'utf8')}sha256:12 team/cut\n${digest(2)} team/b\n`);
    const reopened = await PushedBlobs.open('r.example', cache);
    assert.deepEqual([reopened.sourceFor(digest(1), 'x'), reopened.sourceFor(digest(2), 'x')], ['team/api', 'team/b']);
  });

  test('four processes recording at once lose no record and corrupt no line', async () => {
    const cache = join(work, 'processes');
    await mkdir(cache, { recursive: true });
    const script = `
      const { PushedBlobs } = await import(${JSON.stringify(MODULE)});
      const [cache, worker] = process.argv.slice(1);
      for (let round = 0; round < 25; round++) {
        const pushed = await PushedBlobs.open('shared.example', cache);
        const digests = [0, 1, 2, 3].map((n) => 'sha256:' + (Number(worker) * 1000 + round * 4 + n).toString(16).padStart(64, '0'));
        await pushed.record('team/w' + worker, digests);
      }
    `;
    await Promise.all(
      [1, 2, 3, 4].map((worker) =>
        execa(process.execPath, ['--input-type=module', '-e', script, cache, String(worker)]),
      ),
    );
    const pushed = await PushedBlobs.open('shared.example', cache);
    const missing: string[] = [];
    for (const worker of [1, 2, 3, 4])
      for (let n = 0; n < 100; n++)
        if (pushed.sourceFor(digest(worker * 1000 + n), 'other') !== `team/w${worker}`) missing.push(`${worker}/${n}`);
    assert.deepEqual(missing, []);
  });
});
