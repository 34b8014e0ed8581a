import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pack as tarPack } from 'tar-stream';
import { GociError } from '../common/errors.js';
import { listLayerBlob } from '../images/layer-listing.js';
import { writeLayer, type LayerEntry } from '../images/layer.js';
import { NOTHING_BELOW, stackListing, withParents, type PathsBelow } from '../images/paths-below.js';
import { sha256Digest } from '../oci/descriptor.js';
import { removeDirectory, temporaryDirectory } from './support/workspace.js';

const file = (path: string): LayerEntry => ({
  type: 'file',
  path,
  mode: 0o644,
  uid: 0,
  gid: 0,
  content: Buffer.from('x'),
});
const BASE: PathsBelow = new Map([
  ['home', { type: 'directory', mode: 0o755, uid: 0, gid: 0 }],
  ['home/nonroot', { type: 'directory', mode: 0o700, uid: 65532, gid: 65532 }],
  ['var', { type: 'directory', mode: 0o755, uid: 0, gid: 0 }],
  ['var/run', { type: 'symlink', target: '../run' }],
]);

let work: string;
before(async () => {
  work = await temporaryDirectory('paths-below');
});
after(async () => removeDirectory(work));

describe('the parents a layer writes for its entries', () => {
  test('keep the mode and owner of the directory the base has there', () => {
    assert.deepEqual(withParents([file('/home/nonroot/.config/app.yaml')], BASE).slice(1), [
      { type: 'directory', path: '/home/nonroot/.config', mode: 0o755, uid: 0, gid: 0 },
      { type: 'directory', path: '/home/nonroot', mode: 0o700, uid: 65532, gid: 65532 },
      { type: 'directory', path: '/home', mode: 0o755, uid: 0, gid: 0 },
    ]);
  });

  test('are not added where the layer lists the directory itself', () => {
    const listed: LayerEntry = { type: 'directory', path: '/home/nonroot', mode: 0o750, uid: 1, gid: 1 };
    assert.deepEqual(withParents([listed, file('/home/nonroot/a')], BASE).slice(2), [
      { type: 'directory', path: '/home', mode: 0o755, uid: 0, gid: 0 },
    ]);
  });

  test('are refused below a symlink of the base, naming where the link leads', () => {
    assert.throws(
      () => withParents([file('/var/run/app/pid')], BASE),
      (error: unknown) =>
        error instanceof GociError &&
        error.code === 'BAD_SPEC' &&
        error.message ===
          'the image path /var/run/app/pid is below /var/run, which the base image holds as a symlink to ../run' &&
        error.hint === 'name the path the link leads to (/run/app/pid) instead',
    );
  });
});

describe('the paths of stacked layers', () => {
  test('a whiteout deletes a path and everything below it', () => {
    const stacked = stackListing(BASE, { hidden: ['home'], opaque: [], paths: [] });
    assert.deepEqual([...stacked.keys()], ['var', 'var/run']);
  });

  test('an opaque directory hides what lies below it, then the layer adds its own', () => {
    const stacked = stackListing(BASE, {
      hidden: [],
      opaque: ['home'],
      paths: [['home/other', { type: 'directory', mode: 0o755, uid: 7, gid: 7 }]],
    });
    assert.deepEqual([...stacked.keys()], ['home', 'var', 'var/run', 'home/other']);
  });
});

describe('the listing of a layer blob', () => {
  test("holds goci's own layer's directories with their modes and owners, and its symlinks", async () => {
    const layer = await writeLayer(
      [
        { type: 'directory', path: '/srv', mode: 0o750, uid: 1000, gid: 1001 },
        { type: 'symlink', path: '/srv/current', target: 'v1', uid: 0, gid: 0 },
        { type: 'directory', path: '/big', mode: 0o755, uid: 3_000_000, gid: 3_000_001 },
        file('/srv/v1/app'),
      ],
      join(work, 'blobs'),
      { mtime: 0 },
    );
    const listing = await listLayerBlob(layer.blobPath, layer, 'a test layer');
    assert.deepEqual(
      stackListing(NOTHING_BELOW, listing),
      new Map([
        ['big', { type: 'directory', mode: 0o755, uid: 3_000_000, gid: 3_000_001 }],
        ['srv', { type: 'directory', mode: 0o750, uid: 1000, gid: 1001 }],
        ['srv/current', { type: 'symlink', target: 'v1' }],
        ['srv/v1', { type: 'directory', mode: 0o755, uid: 0, gid: 0 }],
      ]),
    );
  });

  test('holds the whiteouts and opaque directories of an uncompressed tar', async () => {
    const pack = tarPack();
    pack.entry({ name: 'etc/.wh.old.conf', size: 0 }, Buffer.alloc(0));
    pack.entry({ name: 'var/cache/.wh..wh..opq', size: 0 }, Buffer.alloc(0));
    pack.finalize();
    const chunks: Buffer[] = [];
    for await (const chunk of pack as AsyncIterable<Buffer>) chunks.push(chunk);
    const tar = Buffer.concat(chunks);
    const path = join(work, 'whiteouts.tar');
    await writeFile(path, tar);
    const listing = await listLayerBlob(path, { digest: sha256Digest(tar), size: tar.length }, 'a test layer');
    assert.deepEqual(listing, { hidden: ['etc/old.conf'], opaque: ['var/cache'], paths: [] });
  });

  test('is refused when the blob does not match its digest', async () => {
    const layer = await writeLayer([file('/a')], join(work, 'damaged'), { mtime: 0 });
    const bytes = await readFile(layer.blobPath);
    bytes.writeUInt8(bytes.readUInt8(bytes.length - 1) ^ 1, bytes.length - 1);
    await writeFile(layer.blobPath, bytes);
    await assert.rejects(listLayerBlob(layer.blobPath, layer, 'a test layer'), { code: 'DIGEST_MISMATCH' });
  });
});
