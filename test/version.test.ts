import assert from 'node:assert/strict';
import { cp, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { NO_SOURCE_STATE, browsableUrl } from '../compiler/git.js';
import { deriveVersion, makeStamp } from '../compiler/version.js';
import { REPO_ROOT, goci } from './support/goci.js';
import {
  FIXTURE_COMMIT_TIME,
  exampleRepository,
  git,
  removeDirectory,
  repositoryWith,
  temporaryDirectory,
} from './support/workspace.js';
import { found } from '../common/found.js';

const SHA = '1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d';
const made: string[] = [];
after(async () => Promise.all(made.map(removeDirectory)));

/** The version goci would stamp for a checkout, read through the CLI as a user sees it. */
async function versionOf(
  dir: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ version: string; date: string }> {
  const result = await goci(['compile', dir, '--dry-run', '--json'], { env });
  assert.equal(result.exitCode, 0, result.stderr);
  const plan = JSON.parse(result.stdout) as { commands: { version: string; args: string[] }[] };
  const ldflags = found(
    plan.commands[0]!.args.find((arg) => arg.startsWith('-ldflags=')),
    'the -ldflags argument',
  );
  return { version: plan.commands[0]!.version, date: /main\.date=(\S+)/.exec(ldflags)![1]! };
}

async function repository(): Promise<{ dir: string; commit: string }> {
  const dir = await exampleRepository('hello', 'version');
  made.push(dir);
  return { dir, commit: await git(dir, 'rev-parse', 'HEAD') };
}

describe('versions derived from git', () => {
  test('an exact tag v1.2.3 is version 1.2.3', async () => {
    const { dir } = await repository();
    await git(dir, 'tag', 'v1.2.3');
    assert.equal((await versionOf(dir)).version, '1.2.3');
  });

  test('commits after a tag are a pre-release of the next patch, with the commit as build metadata', async () => {
    const { dir } = await repository();
    await git(dir, 'tag', 'v1.2.3');
    for (const n of [1, 2, 3]) {
      await writeFile(join(dir, `note${n}.txt`), `${n}\n`);
      await git(dir, 'add', '-A');
      await git(dir, 'commit', '-q', '-m', `change ${n}`);
    }
    const head = await git(dir, 'rev-parse', 'HEAD');
    assert.equal((await versionOf(dir)).version, `1.2.4-dev.3+g${head.slice(0, 7)}`);
  });

  test('no tag at all is 0.0.0-dev with the commit', async () => {
    const { dir, commit } = await repository();
    assert.equal((await versionOf(dir)).version, `0.0.0-dev+g${commit.slice(0, 7)}`);
  });

  test('a dirty tree marks the version with .dirty build metadata', async () => {
    const { dir, commit } = await repository();
    await writeFile(join(dir, 'main.go'), '// edited\n', { flag: 'a' });
    assert.equal((await versionOf(dir)).version, `0.0.0-dev+g${commit.slice(0, 7)}.dirty`);
    await git(dir, 'tag', 'v2.0.0');
    assert.equal((await versionOf(dir)).version, '2.0.0+dirty');
  });

  test('the date comes from SOURCE_DATE_EPOCH, else the commit time, never the clock', async () => {
    const { dir } = await repository();
    assert.equal((await versionOf(dir)).date, new Date(FIXTURE_COMMIT_TIME * 1000).toISOString().replace('.000Z', 'Z'));
    assert.equal((await versionOf(dir, { ...process.env, SOURCE_DATE_EPOCH: '86400' })).date, '1970-01-02T00:00:00Z');
  });

  test('--version wins over git, and a leading v is dropped', async () => {
    const { dir } = await repository();
    const result = await goci(['compile', dir, '--dry-run', '--json', '--version', 'v3.1.4-rc.1']);
    assert.equal((JSON.parse(result.stdout) as { commands: { version: string }[] }).commands[0]!.version, '3.1.4-rc.1');
  });
});

describe('version.format in goci.yaml', () => {
  const state = { ...NO_SOURCE_STATE, commit: SHA, tag: 'v1.6.20', distance: 0 };
  const after = { ...state, distance: 1 };

  test('tag keeps the v of the tag, on it and after it', () => {
    assert.equal(deriveVersion(state, 'tag'), 'v1.6.20');
    assert.equal(deriveVersion(after, 'tag'), 'v1.6.21-dev.1+g1a2b3c4');
    assert.equal(deriveVersion({ ...state, tag: '1.6.20' }, 'tag'), '1.6.20');
  });

  test('describe writes what git describe --tags --always --dirty does', () => {
    assert.equal(deriveVersion(state, 'describe'), 'v1.6.20');
    assert.equal(deriveVersion(after, 'describe'), 'v1.6.20-1-g1a2b3c4');
    assert.equal(deriveVersion({ ...after, dirty: true }, 'describe'), 'v1.6.20-1-g1a2b3c4-dirty');
    assert.equal(deriveVersion({ ...state, tag: undefined }, 'describe'), '1a2b3c4');
    assert.equal(deriveVersion(NO_SOURCE_STATE, 'describe'), '0.0.0-dev');
  });

  test('a version given keeps its v unless the format is semver', () => {
    assert.equal(makeStamp(NO_SOURCE_STATE, {}, 'v2.0.0', '--version', 'describe').version, 'v2.0.0');
    assert.equal(makeStamp(NO_SOURCE_STATE, {}, 'v2.0.0', '--version', 'semver').version, '2.0.0');
  });

  test('commits after the tag are a development version in every format, so --release refuses them', () => {
    for (const format of ['semver', 'tag', 'describe'] as const) {
      assert.equal(makeStamp(state, {}, undefined, '--version', format).development, false);
      assert.equal(makeStamp(after, {}, undefined, '--version', format).development, true);
    }
  });

  test('the stamped version variable carries the described version', async () => {
    const { dir } = await repository();
    const spec = await readFile(join(dir, 'goci.yaml'), 'utf8');
    await writeFile(join(dir, 'goci.yaml'), spec.replace('version:\n', 'version:\n  format: describe\n'));
    await git(dir, 'add', '-A');
    await git(dir, 'commit', '-q', '-m', 'describe');
    await git(dir, 'tag', 'v1.6.20');
    assert.equal((await versionOf(dir)).version, 'v1.6.20');
    await writeFile(join(dir, 'notes.txt'), 'after the tag\n');
    await git(dir, 'add', '-A');
    await git(dir, 'commit', '-q', '-m', 'after the tag');
    const head = await git(dir, 'rev-parse', 'HEAD');
    assert.equal((await versionOf(dir)).version, `v1.6.20-1-g${head.slice(0, 7)}`);
  });

  test('an unknown format is refused naming the three', async () => {
    const { dir } = await repository();
    await writeFile(join(dir, 'goci.yaml'), 'version:\n  format: calver\n');
    const result = await goci(['compile', '.', '--dry-run'], { cwd: dir });
    assert.equal(result.exitCode, 2);
    assert.equal(
      result.stderr.trim().split('\n').at(-1),
      'goci: goci.yaml: version.format: expected semver, tag, describe, found string "calver" (see the goci.yaml reference in the README)',
    );
  });
});

describe('version rules', () => {
  test('after a pre-release tag the dev counter extends the pre-release', () => {
    assert.equal(
      deriveVersion({ ...NO_SOURCE_STATE, commit: SHA, tag: 'v1.3.0-rc.1', distance: 2 }),
      '1.3.0-rc.1.dev.2+g1a2b3c4',
    );
  });

  test('outside git the version is plain 0.0.0-dev and the date is the epoch', () => {
    const stamp = makeStamp(NO_SOURCE_STATE, {}, undefined);
    assert.deepEqual(stamp, {
      version: '0.0.0-dev',
      commit: '',
      shortCommit: '',
      epoch: 0,
      date: '1970-01-01T00:00:00Z',
      commitTimestamp: '',
      modified: false,
      sourceUrl: undefined,
      development: true,
    });
  });

  test('a tag that is not semver is refused with what to do', () => {
    assert.throws(() => deriveVersion({ ...NO_SOURCE_STATE, commit: SHA, tag: 'v1.2', distance: 0 }), {
      code: 'BAD_VERSION',
      message: 'git tag v1.2: "v1.2" is not a semantic version',
    });
  });

  test('SOURCE_DATE_EPOCH must be a whole number', () => {
    assert.throws(() => makeStamp(NO_SOURCE_STATE, { SOURCE_DATE_EPOCH: 'yesterday' }, undefined), {
      code: 'BAD_ARGUMENT',
    });
  });
});

describe('the source URL for image labels', () => {
  test('scp-style and https remotes become a browsable https URL', () => {
    assert.equal(browsableUrl('git@github.com:acme/api.git'), 'https://github.com/acme/api');
    assert.equal(browsableUrl('https://github.com/acme/api.git'), 'https://github.com/acme/api');
    assert.equal(browsableUrl('ssh://git@gitlab.example.com/team/api'), 'https://gitlab.example.com/team/api');
  });

  test('credentials in a remote never reach the URL', () => {
    assert.equal(browsableUrl('https://ci-bot:s3cr3t-token@github.com/acme/api.git'), 'https://github.com/acme/api');
  });

  test('a local path is no source anyone else can reach', () => {
    assert.equal(browsableUrl('/tmp/origin'), undefined);
    assert.equal(browsableUrl('file:///tmp/origin'), undefined);
  });
});

describe('finding the repository', () => {
  /** A `git` on PATH that writes each command line to a log, then runs the real git: who asked git what. */
  async function gitRecorder(): Promise<{ env: NodeJS.ProcessEnv; calls: () => Promise<string[]> }> {
    const dir = await temporaryDirectory('git-recorder');
    made.push(dir);
    const log = join(dir, 'calls.log');
    await writeFile(join(dir, 'git'), `#!/bin/sh\necho "$*" >> '${log}'\nexec /usr/bin/git "$@"\n`, { mode: 0o755 });
    return {
      env: { ...process.env, PATH: `${dir}:${process.env.PATH ?? ''}` },
      calls: async () =>
        (await readFile(log, 'utf8').catch(() => ''))
          .split('\n')
          .filter(Boolean)
          .map((line) => line.split(' ')[0]!),
    };
  }

  test('outside any repository no git process starts, and the version is plain 0.0.0-dev', async () => {
    const dir = await temporaryDirectory('no-repository');
    made.push(dir);
    await cp(join(REPO_ROOT, 'examples', 'hello'), dir, { recursive: true });
    const recorder = await gitRecorder();
    assert.equal((await versionOf(dir, recorder.env)).version, '0.0.0-dev');
    assert.deepEqual(await recorder.calls(), []);
  });

  test('a package below the repository root is read from the repository above it', async () => {
    const dir = await repositoryWith(
      {
        'services/hello/main.go': await readFile(join(REPO_ROOT, 'examples', 'hello', 'main.go'), 'utf8'),
        'services/hello/goci.yaml': await readFile(join(REPO_ROOT, 'examples', 'hello', 'goci.yaml'), 'utf8'),
        'go.mod': 'module example.com/x\n\ngo 1.19\n',
      },
      'nested',
    );
    made.push(dir);
    await git(dir, 'tag', 'v2.0.0');
    const recorder = await gitRecorder();
    assert.equal((await versionOf(join(dir, 'services', 'hello'), recorder.env)).version, '2.0.0');
    assert.deepEqual((await recorder.calls()).sort(), ['describe', 'log', 'remote', 'rev-parse', 'status']);
  });

  test('a worktree, whose .git is a file, is a repository too', async () => {
    const { dir } = await repository();
    await git(dir, 'tag', 'v3.1.0');
    const worktree = `${dir}-worktree`;
    made.push(worktree);
    await git(dir, 'worktree', 'add', '-q', worktree, 'v3.1.0');
    assert.equal((await versionOf(worktree)).version, '3.1.0');
  });
});
