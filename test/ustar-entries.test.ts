import assert from 'node:assert/strict';
import { mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { execa } from 'execa';
import { ustarEntries } from '../images/base/ustar-entries.js';
import { REPO_ROOT } from './support/goci.js';
import { removeDirectory, temporaryDirectory } from './support/workspace.js';

let work: string;
before(async () => {
  work = await temporaryDirectory('ustar');
  const tree = join(work, 'tree');
  await mkdir(join(tree, 'zoneinfo', 'Europe'), { recursive: true });
  await writeFile(join(tree, 'zoneinfo', 'Europe', 'Paris'), 'TZif2 paris');
  await writeFile(join(tree, 'zoneinfo', 'UTC'), '');
  await symlink('Europe/Paris', join(tree, 'zoneinfo', 'CET'));
});
after(async () => removeDirectory(work));

/** An archive of the tree made by GNU tar itself, in `format`. */
async function archive(format: 'gnu' | 'ustar'): Promise<Buffer> {
  const { stdout } = await execa(
    'tar',
    [
      '--sort=name',
      '--mtime=@0',
      '--owner=0',
      '--group=0',
      `--format=${format}`,
      '-C',
      join(work, 'tree'),
      '-cf',
      '-',
      'zoneinfo',
    ],
    { encoding: 'buffer' },
  );
  return Buffer.from(stdout);
}

describe('reading a plain tar archive', () => {
  for (const format of ['gnu', 'ustar'] as const) {
    test(`${format} format: every member with its type, link target and bytes`, async () => {
      const members = ustarEntries(await archive(format));
      assert.deepEqual(
        members.map((member) => [member.name, member.type, member.linkname, member.content.toString()]),
        [
          ['zoneinfo/', 'directory', '', ''],
          ['zoneinfo/CET', 'symlink', 'Europe/Paris', ''],
          ['zoneinfo/Europe/', 'directory', '', ''],
          ['zoneinfo/Europe/Paris', 'file', '', 'TZif2 paris'],
          ['zoneinfo/UTC', 'file', '', ''],
        ],
      );
    });
  }

  test('a pax archive (an extended header for a name longer than 100 bytes) is refused, not guessed', async () => {
    const long = join(work, 'long');
    await mkdir(join(long, 'zoneinfo'), { recursive: true });
    await writeFile(join(long, 'zoneinfo', 'z'.repeat(120)), 'long');
    const { stdout } = await execa('tar', ['--format=pax', '-C', long, '-cf', '-', 'zoneinfo'], { encoding: 'buffer' });
    assert.throws(() => ustarEntries(Buffer.from(stdout)), /has type "x"/);
  });

  test('a damaged header is refused by its checksum', async () => {
    const bytes = await archive('ustar');
    bytes.writeUInt8(bytes.readUInt8(10) ^ 0x01, 10);
    assert.throws(() => ustarEntries(bytes), /header at byte 0 has a wrong checksum/);
  });

  test('a member cut short is refused', async () => {
    const bytes = await archive('ustar');
    // zoneinfo/, CET and Europe/ have headers only; Paris's content starts after the fourth header.
    assert.equal(ustarEntries(bytes)[3]?.name, 'zoneinfo/Europe/Paris');
    assert.throws(() => ustarEntries(bytes.subarray(0, 4 * 512 + 4)), /"zoneinfo\/Europe\/Paris" is cut short/);
  });

  test("goci's vendored zoneinfo archive reads whole: its 1 308 members", async () => {
    const tar = gunzipSync(await readFile(join(REPO_ROOT, 'images', 'base', 'data', 'zoneinfo.tar.gz')));
    assert.equal(ustarEntries(tar).length, 1308);
  });
});
