import assert from 'node:assert/strict';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { execa } from 'execa';
import { goci, lastLine } from './support/goci.js';
import { monorepos } from './support/monorepo.js';
import { git, removeDirectory, temporaryDirectory } from './support/workspace.js';

/**
 * Issue 13, point 3: version traps. A tagless or shallow clone says what it did to the version;
 * --release refuses what is not a release; goci's own dist/ never makes the next build dirty.
 */

const FLAGS = ['--platform', 'linux/amd64', '--progress', 'plain'];
const repository = monorepos();
/** Other temporary directories of this file. */
const made: string[] = [];
after(() => Promise.all(made.map(removeDirectory)));

/** The version a dry run would stamp, and the warnings it printed. */
async function dryRun(dir: string, extra: string[] = []): Promise<{ version: string; warnings: string[] }> {
  const result = await goci(['compile', './cmd/app', '--dry-run', '--json', ...FLAGS, ...extra], { cwd: dir });
  assert.equal(result.exitCode, 0, result.stderr);
  const warnings = result.stderr.split('\n').filter((line) => line.startsWith('goci: warning: '));
  return { version: JSON.parse(result.stdout).commands[0].version, warnings };
}

describe('versions derived from git', () => {
  test('a clone without tags warns that the version is a development one', async () => {
    const dir = await repository();
    await git(dir, 'tag', '-d', 'v0.3.1');
    const head = (await git(dir, 'rev-parse', 'HEAD')).slice(0, 7);
    assert.deepEqual(await dryRun(dir), {
      version: `0.0.0-dev+g${head}`,
      warnings: [
        `goci: warning: version 0.0.0-dev+g${head}: no release tag (v1.2.3) is reachable from HEAD; ` +
          'tag a release or give --version',
      ],
    });
  });

  test('a shallow clone without tags (a default CI checkout) says how to fetch them', async () => {
    const origin = await repository();
    const parent = await temporaryDirectory('shallow');
    made.push(parent);
    const clone = join(parent, 'clone');
    await execa('git', ['clone', '-q', '--depth', '1', '--no-tags', `file://${origin}`, clone]);
    const head = (await git(clone, 'rev-parse', 'HEAD')).slice(0, 7);
    assert.deepEqual((await dryRun(clone)).warnings, [
      `goci: warning: version 0.0.0-dev+g${head}: this shallow clone has no release tag (v1.2.3); ` +
        'fetch the history and tags (git fetch --tags --unshallow; actions/checkout: fetch-depth: 0), or give --version',
    ]);
  });

  test('a tagged commit, or a version given, warns of nothing', async () => {
    const dir = await repository();
    assert.deepEqual(await dryRun(dir), { version: '0.3.1', warnings: [] });
    await git(dir, 'tag', '-d', 'v0.3.1');
    assert.deepEqual(await dryRun(dir, ['--version', '2.0.0']), { version: '2.0.0', warnings: [] });
  });
});

describe('--release', () => {
  test('refuses a development version before anything compiles', async () => {
    const dir = await repository();
    await git(dir, 'commit', '-q', '--allow-empty', '-m', 'after the tag');
    const head = (await git(dir, 'rev-parse', 'HEAD')).slice(0, 7);
    const result = await goci(['build', './cmd/app', '--release', ...FLAGS], { cwd: dir });
    assert.equal(result.exitCode, 2);
    assert.equal(
      lastLine(result.stderr),
      `goci: --release: version 0.3.2-dev.1+g${head} is a development version, not a tag ` +
        '(tag the commit (git tag v1.2.3) and fetch tags in CI, or give --version)',
    );
  });

  test('refuses uncommitted changes, even with the version given', async () => {
    const dir = await repository();
    await rm(join(dir, '.gitignore'));
    const result = await goci(['build', './cmd/app', '--release', '--version', '0.3.1', ...FLAGS], { cwd: dir });
    assert.equal(result.exitCode, 2);
    assert.equal(
      lastLine(result.stderr),
      'goci: --release: version 0.3.1 is built from uncommitted changes (commit (or git-ignore) them, or build without --release)',
    );
  });

  test('builds a tag of a clean tree', async () => {
    const dir = await repository();
    const result = await goci(['build', './cmd/app', '--release', '--json', '--sbom', 'none', ...FLAGS], { cwd: dir });
    assert.equal(result.exitCode, 0, result.stderr);
    assert.deepEqual(JSON.parse(result.stdout).images[0].tags, ['0.3.1']);
  });
});

describe("goci's own outputs", () => {
  test('a dist/ goci creates ignores itself: the next build is not dirty, for goci or for go', async () => {
    const dir = await repository();
    await rm(join(dir, '.gitignore'));
    await git(dir, 'commit', '-q', '-am', 'no ignore file');
    await git(dir, 'tag', '-f', 'v0.3.1');
    const build = ['build', './cmd/app', '--json', '--sbom', 'none', '--buildvcs', 'true', ...FLAGS];
    const first = await goci(build, { cwd: dir });
    assert.equal(first.exitCode, 0, first.stderr);
    assert.equal(
      await readFile(join(dir, 'dist', '.gitignore'), 'utf8'),
      '# Written by goci: its outputs are not sources.\n*\n',
    );
    assert.equal(await git(dir, 'status', '--porcelain'), '');
    const second = await goci(build, { cwd: dir });
    assert.equal(second.exitCode, 0, second.stderr);
    assert.deepEqual(JSON.parse(second.stdout).images[0].tags, ['0.3.1']);
    const info = await execa('go', ['version', '-m', join(dir, 'dist', 'bin', 'app-0.3.1-linux-amd64')]);
    assert.match(info.stdout, /\tbuild\tvcs\.modified=false$/m);
  });
});
