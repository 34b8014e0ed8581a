import assert from 'node:assert/strict';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, beforeEach, describe, test } from 'node:test';
import { cachedLayer, pruneLayerCache, warmLayerCache } from '../images/layer-cache.js';
import { writeLayer, type Layer, type LayerEntry } from '../images/layer.js';
import { fakeBinary } from './support/fake-binary.js';
import { removeDirectory, temporaryDirectory } from './support/workspace.js';

const made: string[] = [];
let cache: string;
let blobs: string;
let builds: number;
let entries: LayerEntry[];

after(async () => Promise.all(made.map(removeDirectory)));
beforeEach(async () => {
  cache = await temporaryDirectory('cache');
  blobs = await temporaryDirectory('blobs');
  made.push(cache, blobs);
  process.env.GOCI_CACHE_DIR = cache;
  delete process.env.GOCI_CACHE_MAX_BYTES;
  builds = 0;
  entries = [
    { type: 'file', path: '/usr/local/bin/app', mode: 0o755, uid: 0, gid: 0, content: new Uint8Array(fakeBinary()) },
  ];
});

function layer(key: string, into = blobs): Promise<Layer> {
  return cachedLayer(key, into, (dir) => {
    builds++;
    return writeLayer(entries, dir, { mtime: 0 });
  });
}

describe('the layer cache', () => {
  test('a second request for the same key reuses the layer without building it', async () => {
    const first = await layer('k');
    const second = await layer('k');
    assert.equal(builds, 1);
    assert.deepEqual(second, first);
  });

  test('a fresh blob directory gets the cached blob copied in, byte for byte', async () => {
    const first = await layer('k');
    const elsewhere = await temporaryDirectory('blobs2');
    made.push(elsewhere);
    const second = await layer('k', elsewhere);
    assert.equal(builds, 1);
    assert.ok((await readFile(second.blobPath)).equals(await readFile(first.blobPath)));
  });

  test("a copy shares no inode with the cache; into a push's scratch layout the blob is hard-linked", async () => {
    const first = await layer('k');
    const cached = await stat(join(cache, 'layers', first.digest.slice(7)));
    assert.notEqual((await stat(first.blobPath)).ino, cached.ino);
    const scratch = await temporaryDirectory('scratch-blobs');
    made.push(scratch);
    const linked = await cachedLayer('k', scratch, () => assert.fail('built again'), 'link');
    assert.equal((await stat(linked.blobPath)).ino, cached.ino);
    assert.equal(linked.digest, first.digest);
  });

  test('a damaged cache blob is never used: the layer is built again, with the right bytes', async () => {
    const first = await layer('k');
    await writeFile(join(cache, 'layers', first.digest.slice(7)), 'garbage');
    const elsewhere = await temporaryDirectory('blobs3');
    made.push(elsewhere);
    const second = await layer('k', elsewhere);
    assert.equal(builds, 2);
    assert.equal(second.digest, first.digest);
    assert.deepEqual(await readdir(elsewhere), [first.digest.slice(7)]);
  });

  test('different keys are different layers', async () => {
    await layer('a');
    entries = [
      { type: 'file', path: '/usr/local/bin/app', mode: 0o700, uid: 0, gid: 0, content: new Uint8Array(fakeBinary()) },
    ];
    const other = await layer('b');
    assert.equal(builds, 2);
    assert.equal((await readdir(join(cache, 'layers'))).filter((name) => name.endsWith('.json')).length, 2);
    assert.ok(other.digest);
  });

  test('a warmed cache serves the layer without writing anything else first', async () => {
    await warmLayerCache('k', (dir) => {
      builds++;
      return writeLayer(entries, dir, { mtime: 0 });
    });
    assert.deepEqual(await readdir(blobs), []);
    const served = await layer('k');
    assert.equal(builds, 1);
    assert.deepEqual(await readdir(blobs), [served.digest.slice(7)]);
  });

  test('pruning keeps the cache within GOCI_CACHE_MAX_BYTES, dropping the least recently used', async () => {
    const first = await layer('a');
    process.env.GOCI_CACHE_MAX_BYTES = String(first.size + 10);
    entries = [
      {
        type: 'file',
        path: '/usr/local/bin/other',
        mode: 0o755,
        uid: 0,
        gid: 0,
        content: new Uint8Array(fakeBinary()),
      },
    ];
    const second = await layer('b');
    await pruneLayerCache();
    const kept = (await readdir(join(cache, 'layers'))).sort();
    assert.deepEqual(kept, [second.digest.slice(7), ...kept.filter((name) => name.endsWith('.json'))].sort());
    assert.equal(kept.filter((name) => name.endsWith('.json')).length, 1);
  });
});
