import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  chmod,
  mkdir,
  mkdtemp,
  open,
  readdir,
  readFile,
  readlink,
  rm,
  stat,
  utimes,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { isGociError, type GociErrorCode } from '../common/errors.js';
import { writeLayer, type Layer, type LayerEntry } from '../images/layer.js';
import { fakeBinary } from './support/fake-binary.js';

/** 2023-11-14 22:13:20 UTC. */
const MTIME = 1_700_000_000;
const LISTED_TIME = '2023-11-14 22:13:20';

const HELLO = fakeBinary();
const APP_YAML = Buffer.from('listen: :8080\nlog: json\n');
const PASSWD = Buffer.from(
  'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n',
);

let root: string;
let sources: string;

/** Deliberately unsorted, with absolute and relative paths, and without most parent directories. */
function entries(): LayerEntry[] {
  return [
    { type: 'file', path: '/usr/local/bin/hello', mode: 0o755, uid: 0, gid: 0, source: join(sources, 'hello') },
    { type: 'directory', path: '/home/nonroot', mode: 0o700, uid: 65532, gid: 65532 },
    {
      type: 'file',
      path: '/home/nonroot/.config/app.yaml',
      mode: 0o640,
      uid: 65532,
      gid: 65532,
      source: join(sources, 'app.yaml'),
    },
    { type: 'file', path: 'etc/passwd', mode: 0o644, uid: 0, gid: 0, content: new Uint8Array(PASSWD) },
    // Mode 0 must survive: tar-stream would turn a falsy mode into 0644.
    { type: 'file', path: '/etc/shadow', mode: 0, uid: 0, gid: 0, content: new Uint8Array(0) },
    { type: 'symlink', path: '/etc/localtime', target: '/usr/share/zoneinfo/UTC', uid: 0, gid: 0 },
    { type: 'directory', path: '/tmp/', mode: 0o1777, uid: 0, gid: 0 },
  ];
}

let counter = 0;
/** A fresh, empty blob directory. */
async function blobDir(): Promise<string> {
  const dir = join(root, `case-${++counter}`, 'blobs', 'sha256');
  await mkdir(dir, { recursive: true });
  return dir;
}

function run(command: string, args: string[], cwd?: string): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(command, args, { cwd, encoding: 'utf8', env: { ...process.env, TZ: 'UTC', LC_ALL: 'C' } });
  if (result.error) throw result.error;
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Splits tool output into lines with runs of spaces collapsed, so column widths do not matter. */
function lines(text: string): string[] {
  return text
    .split('\n')
    .map((line) => line.trim().replace(/\s+/g, ' '))
    .filter((line) => line !== '');
}

/** Decompresses the blob with gunzip into `<dir>/layer.tar` and returns that path. */
async function gunzipTo(layer: Layer, dir: string): Promise<string> {
  const tar = join(dir, 'layer.tar');
  const result = spawnSync('sh', ['-c', 'gunzip -c "$1" > "$2"', 'sh', layer.blobPath, tar]);
  assert.equal(result.status, 0, result.stderr.toString());
  return tar;
}

/** The raw 512-byte headers of a tar stream, walking sizes; stops at the first zero block. */
function rawHeaders(tar: Buffer): Buffer[] {
  const headers: Buffer[] = [];
  for (let offset = 0; offset + 512 <= tar.length; ) {
    const block = tar.subarray(offset, offset + 512);
    if (block.every((byte) => byte === 0)) break;
    headers.push(block);
    const size = parseInt(block.toString('ascii', 124, 135), 8);
    offset += 512 + Math.ceil(size / 512) * 512;
  }
  return headers;
}

async function expectRejection(promise: Promise<unknown>, code: GociErrorCode, mentions: string[]): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(isGociError(error), `not a GociError: ${String(error)}`);
    assert.equal(error.code, code, error.message);
    for (const text of mentions)
      assert.ok(error.message.includes(text), `message ${JSON.stringify(error.message)} does not mention ${text}`);
    return true;
  });
}

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'goci-layer-'));
  sources = join(root, 'sources');
  await mkdir(sources);
  await writeFile(join(sources, 'hello'), HELLO);
  await writeFile(join(sources, 'app.yaml'), APP_YAML);
});

after(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('writeLayer', () => {
  test('the same entries give the same digest, diffId and bytes after the sources are touched and the order changes', async () => {
    const firstDir = await blobDir();
    const first = await writeLayer(entries(), firstDir, { mtime: MTIME });
    for (const name of ['hello', 'app.yaml']) {
      await utimes(join(sources, name), new Date('2024-06-07T08:09:10Z'), new Date('2024-06-07T08:09:10Z'));
      await chmod(join(sources, name), 0o600);
    }
    const secondDir = await blobDir();
    const second = await writeLayer(entries().reverse(), secondDir, { mtime: MTIME });

    assert.deepEqual({ ...second, blobPath: undefined }, { ...first, blobPath: undefined });
    assert.ok((await readFile(first.blobPath)).equals(await readFile(second.blobPath)), 'blobs differ');
    assert.equal(first.mediaType, 'application/vnd.oci.image.layer.v1.tar+gzip');
    assert.match(first.digest, /^sha256:[0-9a-f]{64}$/);
    assert.match(first.diffId, /^sha256:[0-9a-f]{64}$/);
    assert.notEqual(first.digest, first.diffId);
  });

  test('digest is sha256sum of the blob, named <blobDir>/<hex>; diffId is sha256 of gunzip -c; sizes match', async () => {
    const dir = await blobDir();
    const layer = await writeLayer(entries(), dir, { mtime: MTIME });
    const hex = layer.digest.slice('sha256:'.length);
    assert.equal(layer.blobPath, join(dir, hex));
    assert.deepEqual(await readdir(dir), [hex], 'blob directory holds something besides the blob');

    const sum = run('sha256sum', [layer.blobPath]);
    assert.equal(sum.stdout, `${hex}  ${layer.blobPath}\n`);
    const unzipped = run('sh', ['-c', 'gunzip -c "$1" | sha256sum', 'sh', layer.blobPath]);
    assert.deepEqual([unzipped.status, unzipped.stderr], [0, '']);
    assert.equal(unzipped.stdout, `${layer.diffId.slice('sha256:'.length)}  -\n`);

    assert.equal(layer.size, (await stat(layer.blobPath)).size);
    // 13 headers (7 entries, 6 implicit parents), each content padded to 512, two zero blocks.
    const padded = (n: number): number => Math.ceil(n / 512) * 512;
    assert.equal(
      layer.uncompressedSize,
      13 * 512 + padded(HELLO.length) + padded(APP_YAML.length) + padded(PASSWD.length) + 1024,
    );
    const blob = await readFile(layer.blobPath);
    assert.equal(gunzipSync(blob).length, layer.uncompressedSize);
    assert.equal(blob.readUInt32LE(blob.length - 4), layer.uncompressedSize, 'gzip ISIZE');
  });

  test('tar -tvf lists implicit parents, modes, numeric owners, the fixed mtime and the symlink target, sorted', async () => {
    const dir = await blobDir();
    const layer = await writeLayer(entries(), dir, { mtime: MTIME });
    const tar = await gunzipTo(layer, join(dir, '..', '..'));
    const listing = run('tar', ['--numeric-owner', '--full-time', '-tvf', tar]);
    assert.deepEqual([listing.status, listing.stderr], [0, '']);
    assert.deepEqual(lines(listing.stdout), [
      `drwxr-xr-x 0/0 0 ${LISTED_TIME} etc/`,
      `lrwxrwxrwx 0/0 0 ${LISTED_TIME} etc/localtime -> /usr/share/zoneinfo/UTC`,
      `-rw-r--r-- 0/0 ${PASSWD.length} ${LISTED_TIME} etc/passwd`,
      `---------- 0/0 0 ${LISTED_TIME} etc/shadow`,
      `drwxr-xr-x 0/0 0 ${LISTED_TIME} home/`,
      `drwx------ 65532/65532 0 ${LISTED_TIME} home/nonroot/`,
      `drwxr-xr-x 0/0 0 ${LISTED_TIME} home/nonroot/.config/`,
      `-rw-r----- 65532/65532 ${APP_YAML.length} ${LISTED_TIME} home/nonroot/.config/app.yaml`,
      `drwxrwxrwt 0/0 0 ${LISTED_TIME} tmp/`,
      `drwxr-xr-x 0/0 0 ${LISTED_TIME} usr/`,
      `drwxr-xr-x 0/0 0 ${LISTED_TIME} usr/local/`,
      `drwxr-xr-x 0/0 0 ${LISTED_TIME} usr/local/bin/`,
      `-rwxr-xr-x 0/0 200000 ${LISTED_TIME} usr/local/bin/hello`,
    ]);
  });

  test(`every header is plain ustar with empty user and group names and the mtime field 0o${MTIME.toString(8)}`, async () => {
    const dir = await blobDir();
    const layer = await writeLayer(entries(), dir, { mtime: MTIME });
    const headers = rawHeaders(gunzipSync(await readFile(layer.blobPath)));
    assert.equal(headers.length, 13);
    for (const header of headers) {
      const name = header.toString('latin1', 0, 100).replace(/\0+$/, '');
      assert.equal(header.toString('latin1', 257, 265), 'ustar\u000000', `${name}: magic`);
      assert.notEqual(String.fromCharCode(header[156]!), 'x', `${name}: pax header`);
      assert.ok(
        header.subarray(265, 329).every((byte) => byte === 0),
        `${name}: uname/gname not empty`,
      );
      assert.equal(header.toString('latin1', 136, 147), MTIME.toString(8).padStart(11, '0'), `${name}: mtime`);
    }
  });

  test('extracting with tar -xf gives back the source bytes and the symlink', async () => {
    const dir = await blobDir();
    const layer = await writeLayer(entries(), dir, { mtime: MTIME });
    const out = join(dir, '..', '..', 'rootfs');
    await mkdir(out);
    const extract = run('tar', ['-xzf', layer.blobPath, '-C', out]);
    assert.deepEqual([extract.status, extract.stderr], [0, '']);
    assert.ok((await readFile(join(out, 'usr/local/bin/hello'))).equals(HELLO), 'hello differs');
    assert.ok((await readFile(join(out, 'home/nonroot/.config/app.yaml'))).equals(APP_YAML), 'app.yaml differs');
    assert.ok((await readFile(join(out, 'etc/passwd'))).equals(PASSWD), 'passwd differs');
    assert.equal((await stat(join(out, 'etc/shadow'))).size, 0);
    assert.equal(await readlink(join(out, 'etc/localtime')), '/usr/share/zoneinfo/UTC');
    const files = (await readdir(out, { recursive: true })).sort();
    assert.deepEqual(files, [
      'etc',
      'etc/localtime',
      'etc/passwd',
      'etc/shadow',
      'home',
      'home/nonroot',
      'home/nonroot/.config',
      'home/nonroot/.config/app.yaml',
      'tmp',
      'usr',
      'usr/local',
      'usr/local/bin',
      'usr/local/bin/hello',
    ]);
  });

  test('the gzip header has mtime 0 (bytes 4..7), XFL 4 for level 1 and OS byte 3', async () => {
    const dir = await blobDir();
    const layer = await writeLayer(entries(), dir, { mtime: MTIME });
    const bytes = await readFile(layer.blobPath);
    assert.deepEqual([...bytes.subarray(4, 8)], [0, 0, 0, 0], 'gzip mtime is not zero');
    assert.deepEqual([...bytes.subarray(0, 10)], [0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, 0x04, 0x03]);
  });

  test('a 155-byte path is split into the ustar prefix, without a pax header', async () => {
    const dir = await blobDir();
    const long = `opt/${'d'.repeat(90)}/${'f'.repeat(60)}`;
    const layer = await writeLayer(
      [{ type: 'file', path: `/${long}`, mode: 0o644, uid: 0, gid: 0, content: new Uint8Array([1]) }],
      dir,
      { mtime: MTIME },
    );
    const tar = gunzipSync(await readFile(layer.blobPath));
    assert.equal(tar.indexOf('PaxHeader'), -1, 'pax header written');
    const listing = run('tar', [
      '--numeric-owner',
      '--full-time',
      '-tvf',
      await gunzipTo(layer, join(dir, '..', '..')),
    ]);
    assert.deepEqual(lines(listing.stdout), [
      `drwxr-xr-x 0/0 0 ${LISTED_TIME} opt/`,
      `drwxr-xr-x 0/0 0 ${LISTED_TIME} opt/${'d'.repeat(90)}/`,
      `-rw-r--r-- 0/0 1 ${LISTED_TIME} ${long}`,
    ]);
  });

  test('names and ids that do not fit ustar get pax records that GNU tar reads', async () => {
    const dir = await blobDir();
    const layer = await writeLayer(
      [
        { type: 'file', path: `/opt/${'s'.repeat(120)}`, mode: 0o644, uid: 0, gid: 0, content: new Uint8Array([1, 2]) },
        { type: 'directory', path: `/opt/${'L'.repeat(100)}`, mode: 0o750, uid: 0, gid: 0 },
        { type: 'file', path: '/opt/id', mode: 0o600, uid: 1_000_000, gid: 2_000_000, content: new Uint8Array(0) },
      ],
      dir,
      { mtime: MTIME },
    );
    // tar-stream alone would store the directory as prefix "opt/LLL…" and an empty name field.
    const headers = rawHeaders(gunzipSync(await readFile(layer.blobPath)));
    assert.ok(
      headers.every((header) => header[0] !== 0),
      'a header has an empty name field',
    );
    assert.equal(headers.filter((header) => header[156] === 'x'.charCodeAt(0)).length, 3, 'pax headers');
    const listing = run('tar', [
      '--numeric-owner',
      '--full-time',
      '-tvf',
      await gunzipTo(layer, join(dir, '..', '..')),
    ]);
    assert.deepEqual([listing.status, listing.stderr], [0, '']);
    assert.deepEqual(lines(listing.stdout), [
      `drwxr-xr-x 0/0 0 ${LISTED_TIME} opt/`,
      `drwxr-x--- 0/0 0 ${LISTED_TIME} opt/${'L'.repeat(100)}/`,
      `-rw------- 1000000/2000000 0 ${LISTED_TIME} opt/id`,
      `-rw-r--r-- 0/0 2 ${LISTED_TIME} opt/${'s'.repeat(120)}`,
    ]);
  });

  test('writing a layer whose blob already exists leaves just that blob', async () => {
    const dir = await blobDir();
    const first = await writeLayer(entries(), dir, { mtime: MTIME });
    const second = await writeLayer(entries(), dir, { mtime: MTIME });
    assert.deepEqual(second, first);
    assert.deepEqual(await readdir(dir), [basename(first.blobPath)]);
  });

  test('a 64 MiB file streams through with rss growing less than 60 MB', async () => {
    const big = join(root, 'big.bin');
    const handle = await open(big, 'w');
    for (let i = 0; i < 64; i++) await handle.write(randomBytes(1 << 20));
    await handle.close();
    const dir = await blobDir();

    const baseline = process.memoryUsage().rss;
    let peak = baseline;
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss);
    }, 10);
    let layer: Layer;
    try {
      layer = await writeLayer([{ type: 'file', path: '/big.bin', mode: 0o644, uid: 0, gid: 0, source: big }], dir, {
        mtime: MTIME,
      });
    } finally {
      clearInterval(sampler);
    }
    peak = Math.max(peak, process.memoryUsage().rss);
    await rm(big);

    assert.ok(peak - baseline < 60e6, `rss grew by ${((peak - baseline) / 1e6).toFixed(1)} MB`);
    assert.equal(layer.uncompressedSize, 512 + 64 * (1 << 20) + 1024);
    assert.equal(layer.size, (await stat(layer.blobPath)).size);
  });
});

describe('writeLayer rejects bad input and leaves nothing in the blob directory', () => {
  test("a '..' segment is BAD_ARGUMENT naming the path", async () => {
    const dir = await blobDir();
    const bad: LayerEntry[] = [
      ...entries(),
      { type: 'file', path: '/usr/../etc/hosts', mode: 0o644, uid: 0, gid: 0, content: new Uint8Array(1) },
    ];
    await expectRejection(writeLayer(bad, dir, { mtime: MTIME }), 'BAD_ARGUMENT', ['"/usr/../etc/hosts"', "'..'"]);
    assert.deepEqual(await readdir(dir), []);
  });

  test('the same path twice, once absolute and once relative, is BAD_ARGUMENT naming the path', async () => {
    const dir = await blobDir();
    const bad: LayerEntry[] = [
      ...entries(),
      { type: 'file', path: 'usr/local/bin/hello', mode: 0o755, uid: 0, gid: 0, content: new Uint8Array(1) },
    ];
    await expectRejection(writeLayer(bad, dir, { mtime: MTIME }), 'BAD_ARGUMENT', ['usr/local/bin/hello', 'twice']);
    assert.deepEqual(await readdir(dir), []);
  });

  test('a missing source is NOT_FOUND naming the entry and the source', async () => {
    const dir = await blobDir();
    const missing = join(sources, 'missing');
    const bad: LayerEntry[] = [
      ...entries(),
      { type: 'file', path: '/usr/bin/missing', mode: 0o755, uid: 0, gid: 0, source: missing },
    ];
    await expectRejection(writeLayer(bad, dir, { mtime: MTIME }), 'NOT_FOUND', ['usr/bin/missing', missing]);
    assert.deepEqual(await readdir(dir), []);
  });

  test('a source that holds more bytes than stat reported is IO_FAILED, and the partial blob is removed', {
    skip: process.platform !== 'linux',
  }, async () => {
    // /proc files stat as 0 bytes but read as more: the same as a file that grows while it is read.
    assert.equal((await stat('/proc/version')).size, 0);
    const dir = await blobDir();
    const bad: LayerEntry[] = [
      ...entries(),
      { type: 'file', path: '/zz/version', mode: 0o644, uid: 0, gid: 0, source: '/proc/version' },
    ];
    await expectRejection(writeLayer(bad, dir, { mtime: MTIME }), 'IO_FAILED', [
      'zz/version',
      '/proc/version',
      'changed size',
    ]);
    assert.deepEqual(await readdir(dir), []);
  });
});
