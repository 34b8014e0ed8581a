import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmod, copyFile, mkdir, mkdtemp, readdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { renderChecksums } from '../compiler/archive/checksums.js';
import type { ArchiveEntry } from '../compiler/archive/entry.js';
import { writeTarGz } from '../compiler/archive/tar-gz.js';
import { writeZip } from '../compiler/archive/zip.js';
import { fakeBinary } from './support/fake-binary.js';

/** 2023-11-14 22:13:20 UTC. */
const MTIME = 1_700_000_000;

const BINARY = fakeBinary();
const README = Buffer.from('# goci\n\nBuild container images for Go programs.\n');
const LICENSE = Buffer.from('Apache License\nVersion 2.0, January 2004\n');

let root: string;
let sources: string;

function entries(): ArchiveEntry[] {
  // Deliberately unsorted: the archives must sort by name themselves.
  return [
    { name: 'goci', source: join(sources, 'goci'), mode: 0o755 },
    { name: 'README.md', source: join(sources, 'README.md'), mode: 0o644 },
    { name: 'docs/LICENSE', source: join(sources, 'LICENSE'), mode: 0o644 },
  ];
}

const CONTENT: Record<string, Buffer> = { goci: BINARY, 'README.md': README, 'docs/LICENSE': LICENSE };

let counter = 0;
async function scratch(): Promise<string> {
  const dir = join(root, `case-${++counter}`);
  await mkdir(dir, { recursive: true });
  return dir;
}

/** Changes everything about the sources that must not matter: timestamps and permissions on disk. */
async function disturbSources(when: Date, mode: number): Promise<void> {
  for (const name of ['goci', 'README.md', 'LICENSE']) {
    await utimes(join(sources, name), when, when);
    await chmod(join(sources, name), mode);
  }
}

function run(command: string, args: string[], cwd?: string): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(command, args, { cwd, encoding: 'utf8', env: { ...process.env, TZ: 'UTC', LC_ALL: 'C' } });
  if (result.error) throw result.error;
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

function runBytes(command: string, args: string[]): Buffer {
  const result = spawnSync(command, args, { env: { ...process.env, TZ: 'UTC', LC_ALL: 'C' }, maxBuffer: 64 << 20 });
  if (result.error) throw result.error;
  assert.equal(result.status, 0, result.stderr.toString());
  return result.stdout;
}

/** Splits tool output into lines with runs of spaces collapsed, so column widths do not matter. */
function lines(text: string): string[] {
  return text
    .split('\n')
    .map((line) => line.trim().replace(/\s+/g, ' '))
    .filter((line) => line !== '');
}

function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'goci-archive-'));
  sources = join(root, 'sources');
  await mkdir(sources);
  await writeFile(join(sources, 'goci'), BINARY);
  await writeFile(join(sources, 'README.md'), README);
  await writeFile(join(sources, 'LICENSE'), LICENSE);
  if (run('which', ['unzip']).status !== 0) {
    assert.equal(run('apt-get', ['install', '-y', 'unzip']).status, 0, 'could not install unzip');
  }
});

after(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('writeTarGz', () => {
  test('the same entries give identical bytes even after the sources are touched, chmodded and passed in another order', async () => {
    const dir = await scratch();
    await disturbSources(new Date('2001-02-03T04:05:06Z'), 0o644);
    const first = await writeTarGz(join(dir, 'first.tar.gz'), entries(), { mtime: MTIME });
    await disturbSources(new Date('2024-06-07T08:09:10Z'), 0o600);
    const second = await writeTarGz(join(dir, 'second.tar.gz'), entries().reverse(), { mtime: MTIME });

    const firstBytes = await readFile(first.path);
    const secondBytes = await readFile(second.path);
    assert.ok(firstBytes.equals(secondBytes), 'archives differ');
    assert.equal(first.sha256, second.sha256);
    assert.equal(first.sha256, sha256(firstBytes));
    assert.equal(first.size, firstBytes.length);
    assert.deepEqual(await readdir(dir), ['first.tar.gz', 'second.tar.gz']);
  });

  test('tar -tvzf lists the entries sorted by name with the given modes, owner 0/0 and mtime', async () => {
    const dir = await scratch();
    const archive = await writeTarGz(join(dir, 'goci.tar.gz'), entries(), { mtime: MTIME });
    const listing = run('tar', ['--full-time', '-tvzf', archive.path]);
    assert.equal(listing.status, 0, listing.stderr);
    assert.equal(listing.stderr, '');
    assert.deepEqual(lines(listing.stdout), [
      `-rw-r--r-- 0/0 ${README.length} 2023-11-14 22:13:20 README.md`,
      `-rw-r--r-- 0/0 ${LICENSE.length} 2023-11-14 22:13:20 docs/LICENSE`,
      `-rwxr-xr-x 0/0 200000 2023-11-14 22:13:20 goci`,
    ]);
  });

  test('the uncompressed stream is byte-identical to GNU tar --format=ustar with owner 0/0 and the same mtime', async () => {
    const dir = await scratch();
    const archive = await writeTarGz(join(dir, 'goci.tar.gz'), entries(), { mtime: MTIME });
    const staged = join(dir, 'staged');
    for (const entry of entries()) {
      await mkdir(dirname(join(staged, entry.name)), { recursive: true });
      await copyFile(entry.source, join(staged, entry.name));
      await chmod(join(staged, entry.name), entry.mode);
    }
    const gnu = run(
      'tar',
      [
        '--format=ustar',
        '--owner=0',
        '--group=0',
        '--numeric-owner',
        `--mtime=@${MTIME}`,
        '--blocking-factor=1',
        '-cf',
        join(dir, 'gnu.tar'),
        'README.md',
        'docs/LICENSE',
        'goci',
      ],
      staged,
    );
    assert.equal(gnu.status, 0, gnu.stderr);
    const ours = gunzipSync(await readFile(archive.path));
    assert.ok(ours.equals(await readFile(join(dir, 'gnu.tar'))), 'tar stream differs from GNU tar');
    assert.equal(ours.length, 3 * 512 + 512 + 512 + 391 * 512 + 1024);
  });

  test('extracting with tar gives back the source bytes with the given modes', async () => {
    const dir = await scratch();
    await disturbSources(new Date('2001-02-03T04:05:06Z'), 0o600);
    const archive = await writeTarGz(join(dir, 'goci.tar.gz'), entries(), { mtime: MTIME });
    const out = join(dir, 'out');
    await mkdir(out);
    const extract = run('tar', ['-xzf', archive.path, '-C', out]);
    assert.equal(extract.status, 0, extract.stderr);
    for (const [name, content] of Object.entries(CONTENT)) {
      assert.ok((await readFile(join(out, name))).equals(content), `${name} differs`);
    }
    assert.equal((await stat(join(out, 'goci'))).mode & 0o7777, 0o755);
    assert.equal((await stat(join(out, 'README.md'))).mode & 0o7777, 0o644);
    assert.equal((await stat(join(out, 'goci'))).mtimeMs, MTIME * 1000);
  });

  test('the gzip header carries no mtime and no file name, and OS byte 3 (unix); gzip -t accepts the trailer', async () => {
    const dir = await scratch();
    const archive = await writeTarGz(join(dir, 'goci.tar.gz'), entries(), { mtime: MTIME });
    const bytes = await readFile(archive.path);
    assert.deepEqual([...bytes.subarray(4, 8)], [0, 0, 0, 0], 'gzip mtime is not zero');
    assert.deepEqual([...bytes.subarray(0, 10)], [0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03]);
    const check = run('gzip', ['-t', archive.path]);
    assert.deepEqual([check.status, check.stderr], [0, '']);
    // ISIZE, the last 4 bytes, is the tar stream's length.
    assert.equal(bytes.readUInt32LE(bytes.length - 4), gunzipSync(bytes).length);
  });
});

describe('writeZip', () => {
  test('the same entries give identical bytes even after the sources are touched, chmodded and passed in another order', async () => {
    const dir = await scratch();
    await disturbSources(new Date('2001-02-03T04:05:06Z'), 0o644);
    const first = await writeZip(join(dir, 'first.zip'), entries(), { mtime: MTIME });
    await disturbSources(new Date('2024-06-07T08:09:10Z'), 0o600);
    const second = await writeZip(join(dir, 'second.zip'), entries().reverse(), { mtime: MTIME });

    const firstBytes = await readFile(first.path);
    assert.ok(firstBytes.equals(await readFile(second.path)), 'archives differ');
    assert.equal(first.sha256, second.sha256);
    assert.equal(first.sha256, sha256(firstBytes));
    assert.equal(first.size, firstBytes.length);
  });

  test('zipinfo lists the entries sorted, made on unix, deflated, with the given modes and UTC mtime', async () => {
    const dir = await scratch();
    const archive = await writeZip(join(dir, 'goci.zip'), entries(), { mtime: MTIME });
    const listing = run('unzip', ['-Z', '-T', archive.path]);
    assert.equal(listing.status, 0, listing.stderr);
    assert.deepEqual(lines(listing.stdout).slice(2, 5), [
      `-rw-r--r-- 2.0 unx ${README.length} b- defN 20231114.221320 README.md`,
      `-rw-r--r-- 2.0 unx ${LICENSE.length} b- defN 20231114.221320 docs/LICENSE`,
      '-rwxr-xr-x 2.0 unx 200000 b- defN 20231114.221320 goci',
    ]);
  });

  test('zipinfo -v shows no extra fields and no data descriptors (sizes live in the local header)', async () => {
    const dir = await scratch();
    const archive = await writeZip(join(dir, 'goci.zip'), entries(), { mtime: MTIME });
    const verbose = lines(run('unzip', ['-Z', '-v', archive.path]).stdout);
    const count = (line: string): number => verbose.filter((l) => l === line).length;
    assert.equal(count('file system or operating system of origin: Unix'), 3);
    assert.equal(count('extended local header: no'), 3);
    assert.equal(count('length of extra field: 0 bytes'), 3);
    assert.equal(count('Unix file attributes (100755 octal): -rwxr-xr-x'), 1);
    assert.equal(count('Unix file attributes (100644 octal): -rw-r--r--'), 2);
    const integrity = run('unzip', ['-t', archive.path]);
    assert.equal(integrity.status, 0, integrity.stdout);
    assert.match(integrity.stdout, /No errors detected in compressed data/);
  });

  test('unzip -p gives back each source byte for byte', async () => {
    const dir = await scratch();
    const archive = await writeZip(join(dir, 'goci.zip'), entries(), { mtime: MTIME });
    for (const [name, content] of Object.entries(CONTENT)) {
      assert.ok(runBytes('unzip', ['-p', archive.path, name]).equals(content), `${name} differs`);
    }
  });

  test('unzip restores the given modes', async () => {
    const dir = await scratch();
    await disturbSources(new Date('2001-02-03T04:05:06Z'), 0o600);
    const archive = await writeZip(join(dir, 'goci.zip'), entries(), { mtime: MTIME });
    const out = join(dir, 'out');
    assert.equal(run('unzip', ['-q', archive.path, '-d', out]).status, 0);
    assert.equal((await stat(join(out, 'goci'))).mode & 0o7777, 0o755);
    assert.equal((await stat(join(out, 'docs/LICENSE'))).mode & 0o7777, 0o644);
  });

  test('DOS time clamps to 1980-01-01 00:00:00 before 1980 and keeps even seconds after', async () => {
    const dir = await scratch();
    const cases: [number, string][] = [
      [0, '19800101.000000'],
      [315_532_799, '19800101.000000'], // 1979-12-31 23:59:59
      [315_532_800, '19800101.000000'], // 1980-01-01 00:00:00
      [315_532_803, '19800101.000002'], // odd seconds round down
      [MTIME + 1, '20231114.221320'],
    ];
    for (const [mtime, expected] of cases) {
      const archive = await writeZip(join(dir, `${mtime}.zip`), entries().slice(1, 2), { mtime });
      assert.equal(
        lines(run('unzip', ['-Z', '-T', archive.path]).stdout)[2],
        `-rw-r--r-- 2.0 unx ${README.length} b- defN ${expected} README.md`,
      );
    }
  });
});

describe('renderChecksums', () => {
  test('renders exactly what sha256sum prints, sorted by name in byte order', async () => {
    const dir = await scratch();
    const tarGz = await writeTarGz(join(dir, 'goci_1.0.0_linux_amd64.tar.gz'), entries(), { mtime: MTIME });
    const zip = await writeZip(join(dir, 'goci_1.0.0_windows_amd64.zip'), entries(), { mtime: MTIME });
    await writeFile(join(dir, 'SBOM.json'), '{}\n');
    const text = renderChecksums([
      { name: 'goci_1.0.0_windows_amd64.zip', sha256: zip.sha256 },
      { name: 'goci_1.0.0_linux_amd64.tar.gz', sha256: tarGz.sha256 },
      { name: 'SBOM.json', sha256: sha256(Buffer.from('{}\n')) },
    ]);
    assert.equal(
      text,
      'ca3d163bab055381827226140568f3bef7eaac187cebd76878e0b63e9e442356  SBOM.json\n' +
        `${tarGz.sha256}  goci_1.0.0_linux_amd64.tar.gz\n` +
        `${zip.sha256}  goci_1.0.0_windows_amd64.zip\n`,
    );
    const sha256sum = run(
      'sha256sum',
      ['SBOM.json', 'goci_1.0.0_linux_amd64.tar.gz', 'goci_1.0.0_windows_amd64.zip'],
      dir,
    );
    assert.equal(text, sha256sum.stdout);
    assert.equal(renderChecksums([]), '');
  });

  test('sha256sum -c passes for the real files and fails once one of them changes', async () => {
    const dir = await scratch();
    const tarGz = await writeTarGz(join(dir, 'goci.tar.gz'), entries(), { mtime: MTIME });
    const zip = await writeZip(join(dir, 'goci.zip'), entries(), { mtime: MTIME });
    await writeFile(
      join(dir, 'checksums.txt'),
      renderChecksums([
        { name: 'goci.zip', sha256: zip.sha256 },
        { name: 'goci.tar.gz', sha256: tarGz.sha256 },
      ]),
    );
    const good = run('sha256sum', ['-c', 'checksums.txt'], dir);
    assert.deepEqual([good.status, good.stdout, good.stderr], [0, 'goci.tar.gz: OK\ngoci.zip: OK\n', '']);

    await writeFile(zip.path, Buffer.concat([await readFile(zip.path), Buffer.from([0])]));
    const bad = run('sha256sum', ['-c', 'checksums.txt'], dir);
    assert.equal(bad.status, 1);
    assert.equal(bad.stdout, 'goci.tar.gz: OK\ngoci.zip: FAILED\n');
    assert.match(bad.stderr, /1 computed checksum did NOT match/);
  });

  test('rejects names sha256sum would escape, malformed digests and duplicates with BAD_ARGUMENT', () => {
    const digest = 'a'.repeat(64);
    for (const files of [
      [{ name: 'a\nb', sha256: digest }],
      [{ name: 'a\\b', sha256: digest }],
      [{ name: '', sha256: digest }],
      [{ name: 'a', sha256: 'A'.repeat(64) }],
      [{ name: 'a', sha256: 'a'.repeat(63) }],
      [
        { name: 'a', sha256: digest },
        { name: 'a', sha256: digest },
      ],
    ]) {
      assert.throws(() => renderChecksums(files), { name: 'GociError', code: 'BAD_ARGUMENT' }, JSON.stringify(files));
    }
  });
});

const writers = [
  { label: 'writeTarGz', write: writeTarGz, file: 'goci.tar.gz' },
  { label: 'writeZip', write: writeZip, file: 'goci.zip' },
] as const;

describe('failed writes leave nothing behind', () => {
  for (const { label, write, file } of writers) {
    test(`${label}: a missing source fails with NOT_FOUND after other entries were written, and no file or temporary file remains`, async () => {
      const dir = await scratch();
      const destination = join(dir, 'dist');
      // 'zz-missing' sorts last, so the temporary archive already holds the other entries when it fails.
      const withMissing = [...entries(), { name: 'zz-missing', source: join(sources, 'nope'), mode: 0o644 }];
      await assert.rejects(write(join(destination, file), withMissing, { mtime: MTIME }), {
        name: 'GociError',
        code: 'NOT_FOUND',
      });
      assert.deepEqual(await readdir(destination), []);
    });

    test(`${label}: a failed rewrite keeps the existing archive byte for byte`, async () => {
      const dir = await scratch();
      const good = await write(join(dir, file), entries(), { mtime: MTIME });
      const before = await readFile(good.path);
      const withMissing = [...entries(), { name: 'zz-missing', source: join(sources, 'nope'), mode: 0o644 }];
      await assert.rejects(write(good.path, withMissing, { mtime: MTIME + 60 }), {
        name: 'GociError',
        code: 'NOT_FOUND',
      });
      assert.ok((await readFile(good.path)).equals(before));
      assert.deepEqual(await readdir(dir), [file]);
    });

    test(`${label}: a destination directory that cannot be created fails with IO_FAILED and writes nothing`, async () => {
      const dir = await scratch();
      await writeFile(join(dir, 'dist'), 'a file where the directory should be');
      await assert.rejects(write(join(dir, 'dist', file), entries(), { mtime: MTIME }), {
        name: 'GociError',
        code: 'IO_FAILED',
      });
      assert.deepEqual(await readdir(dir), ['dist']);
      assert.equal(await readFile(join(dir, 'dist'), 'utf8'), 'a file where the directory should be');
    });
  }
});

describe('bad arguments are rejected before anything is written', () => {
  const badNames = [
    '/usr/local/bin/goci',
    '../goci',
    'bin/../../goci',
    '..',
    'bin/..',
    'C:/goci',
    'bin\\..\\goci',
    'bin//goci',
    './goci',
    'bin/',
    '',
  ];
  for (const { label, write, file } of writers) {
    test(`${label}: absolute, '..' and unnormalized entry names fail with BAD_ARGUMENT`, async () => {
      const dir = await scratch();
      for (const name of badNames) {
        const bad = [...entries(), { name, source: join(sources, 'README.md'), mode: 0o644 }];
        await assert.rejects(
          write(join(dir, 'dist', file), bad, { mtime: MTIME }),
          { name: 'GociError', code: 'BAD_ARGUMENT' },
          JSON.stringify(name),
        );
      }
      assert.deepEqual(await readdir(dir), []);
    });

    test(`${label}: duplicate names, impossible modes and negative or fractional mtimes fail with BAD_ARGUMENT`, async () => {
      const dir = await scratch();
      const target = join(dir, 'dist', file);
      const duplicate = [...entries(), { name: 'goci', source: join(sources, 'README.md'), mode: 0o644 }];
      await assert.rejects(write(target, duplicate, { mtime: MTIME }), { name: 'GociError', code: 'BAD_ARGUMENT' });
      for (const mode of [0o100755, -1, 1.5]) {
        const bad = [{ name: 'goci', source: join(sources, 'goci'), mode }];
        await assert.rejects(
          write(target, bad, { mtime: MTIME }),
          { name: 'GociError', code: 'BAD_ARGUMENT' },
          String(mode),
        );
      }
      for (const mtime of [-1, 1.5, Number.NaN]) {
        await assert.rejects(
          write(target, entries(), { mtime }),
          { name: 'GociError', code: 'BAD_ARGUMENT' },
          String(mtime),
        );
      }
      assert.deepEqual(await readdir(dir), []);
    });
  }
});
