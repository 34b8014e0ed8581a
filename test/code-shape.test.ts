import assert from 'node:assert/strict';
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { execa } from 'execa';
import { found } from '../common/found.js';
import { REPO_ROOT } from './support/goci.js';
import { removeDirectory, temporaryDirectory } from './support/workspace.js';

describe('found: what a .find() must have found', () => {
  test('a found value comes back as it is (0 and empty strings included)', () => {
    assert.equal(
      found(
        [3, 0].find((n) => n === 0),
        'a zero',
      ),
      0,
    );
    assert.equal(
      found(
        [''].find((s) => s === ''),
        'an empty string',
      ),
      '',
    );
  });

  test('nothing found throws an Error naming what was looked for', () => {
    assert.throws(
      () =>
        found(
          [1, 2].find((n) => n > 2),
          'a number above 2',
        ),
      {
        name: 'Error',
        message: 'a number above 2 is missing',
      },
    );
  });
});

describe('lint: the Biome plugin refuses `!` after .find()', () => {
  let dir: string;
  before(async () => {
    // A copy of the project's configuration around one probe file, so the real tree stays untouched.
    dir = await temporaryDirectory('goci-lint-probe-');
    await mkdir(join(dir, 'scripts'));
    await copyFile(join(REPO_ROOT, 'biome.jsonc'), join(dir, 'biome.jsonc'));
    await copyFile(join(REPO_ROOT, 'scripts', 'no-find-non-null.grit'), join(dir, 'scripts', 'no-find-non-null.grit'));
    await writeFile(
      join(dir, 'probe.ts'),
      [
        'const xs = [1, 2];',
        'export const checked = xs.find((x) => x > 1);',
        'export const asserted = xs.find((x) => x > 1)!;',
        'export const first = xs[0]!;',
        '',
      ].join('\n'),
    );
  });
  after(() => removeDirectory(dir));

  test('the one `.find(...)!` is an error at its line; `xs[0]!` and an unasserted find pass', async () => {
    const biome = join(REPO_ROOT, 'node_modules', '.bin', 'biome');
    const result = await execa(biome, ['lint', '--colors=off', '--vcs-enabled=false', 'probe.ts'], {
      cwd: dir,
      reject: false,
      all: true,
    });
    assert.equal(result.exitCode, 1);
    const diagnostics = result.all.split('\n').filter((line) => /^probe\.ts:\d+:\d+ /.test(line));
    assert.deepEqual(
      diagnostics.map((line) => line.replace(/ ━+$/, '')),
      ['probe.ts:3:25 plugin'],
    );
    assert.match(result.all, /No `!` on a \.find\(\) result: check for undefined and throw an error/);
  });
});
