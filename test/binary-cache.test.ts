import assert from 'node:assert/strict';
import { readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { execa } from 'execa';
import { goci } from './support/goci.js';
import { goVersionM } from './support/go-version.js';
import { git, removeDirectory, repositoryWith, temporaryDirectory } from './support/workspace.js';

/** A program whose output comes from an embedded file in another package of the module. */
const FILES: Record<string, string> = {
  'go.mod': 'module example.com/greeter\n\ngo 1.19\n',
  'main.go':
    'package main\n\nimport (\n\t"fmt"\n\n\t"example.com/greeter/greeting"\n)\n\nfunc main() {\n\tfmt.Println(greeting.Text())\n}\n',
  'greeting/greeting.go':
    'package greeting\n\nimport (\n\t_ "embed"\n\t"strings"\n)\n\n//go:embed text/hello.txt\nvar hello string\n\n// Text is the greeting.\nfunc Text() string { return strings.TrimSpace(hello) }\n',
  'greeting/text/hello.txt': 'hello\n',
  'README.md': '# greeter\n',
  '.gitignore': 'dist/\n',
};

interface Compiled {
  binaries: { path: string; sha256: string; cached: boolean }[];
}

let repo: string;
let cacheRoot: string;
let env: NodeJS.ProcessEnv;

async function compile(args: string[] = [], extraEnv: NodeJS.ProcessEnv = {}): Promise<Compiled['binaries'][number]> {
  const result = await goci(['compile', '.', '--platform', 'linux/amd64', '--version', '1.0.0', '--json', ...args], {
    cwd: repo,
    env: { ...env, ...extraEnv },
  });
  assert.equal(result.exitCode, 0, result.stderr);
  return (JSON.parse(result.stdout) as Compiled).binaries[0]!;
}

async function runBinary(path: string): Promise<string> {
  return (await execa(path)).stdout;
}

before(async () => {
  repo = await repositoryWith(FILES, 'binary-cache');
  cacheRoot = await temporaryDirectory('binary-cache-goci');
  env = { ...process.env, GOCI_CACHE_DIR: cacheRoot };
});
after(async () => Promise.all([repo, cacheRoot].map(removeDirectory)));

describe("goci's binary cache", () => {
  test('the first build runs go build; the second, with nothing changed, reuses its exact bytes', async () => {
    const first = await compile();
    const second = await compile();
    assert.deepEqual([first.cached, second.cached], [false, true]);
    assert.equal(second.sha256, first.sha256);
    assert.equal(await runBinary(second.path), 'hello');
  });

  test('--no-cache runs go build, which writes the same bytes the cache served', async () => {
    const cached = await compile();
    const rebuilt = await compile(['--no-cache']);
    assert.deepEqual([cached.cached, rebuilt.cached], [true, false]);
    assert.equal(rebuilt.sha256, cached.sha256);
  });

  test('a changed embedded file is a rebuild', async () => {
    const before = await compile();
    await writeFile(join(repo, 'greeting', 'text', 'hello.txt'), 'bonjour\n');
    await git(repo, 'commit', '-qam', 'French');
    const after = await compile();
    assert.equal(after.cached, false);
    assert.notEqual(after.sha256, before.sha256);
    assert.equal(await runBinary(after.path), 'bonjour');
  });

  test('a changed Go line is a rebuild', async () => {
    const before = await compile(['--buildvcs', 'false']);
    const main = join(repo, 'main.go');
    await writeFile(
      main,
      (await readFile(main, 'utf8')).replace('fmt.Println(greeting.Text())', 'fmt.Println(greeting.Text() + "!")'),
    );
    const after = await compile(['--buildvcs', 'false']);
    assert.equal(after.cached, false);
    assert.notEqual(after.sha256, before.sha256);
    assert.equal(await runBinary(after.path), 'bonjour!');
    await git(repo, 'commit', '-qam', 'excited');
  });

  test('a change that compiles to the same bytes runs go build, and the cache keeps the blob it had (same inode)', async () => {
    const before = await compile(['--buildvcs', 'false']);
    const blob = join(cacheRoot, 'binaries', before.sha256);
    const held = await stat(blob);
    const main = join(repo, 'main.go');
    await writeFile(main, `${await readFile(main, 'utf8')}\n// A comment: new source, the same program.\n`);
    const after = await compile(['--buildvcs', 'false']);
    assert.equal(after.cached, false);
    assert.equal(after.sha256, before.sha256);
    assert.equal((await stat(blob)).ino, held.ino);
    await git(repo, 'commit', '-qam', 'comment');
  });

  test('a changed file go build never reads keeps the cached binary when VCS stamping is off', async () => {
    const before = await compile(['--buildvcs', 'false']);
    await writeFile(join(repo, 'README.md'), '# greeter\n\nSays hello.\n');
    const after = await compile(['--buildvcs', 'false']);
    assert.equal(after.cached, true);
    assert.equal(after.sha256, before.sha256);
  });

  test('with VCS stamping, a new commit is a rebuild: the binary records the new revision', async () => {
    await git(repo, 'commit', '-qam', 'docs');
    const after = await compile();
    assert.equal(after.cached, false);
    assert.equal((await goVersionM(after.path)).settings['vcs.revision'], await git(repo, 'rev-parse', 'HEAD'));
  });

  test('a different version stamp is a rebuild', async () => {
    await compile();
    const result = await goci(['compile', '.', '--platform', 'linux/amd64', '--version', '1.0.1', '--json'], {
      cwd: repo,
      env,
    });
    assert.equal((JSON.parse(result.stdout) as Compiled).binaries[0]!.cached, false);
  });

  test('GOFLAGS in the environment is part of the key', async () => {
    await compile();
    assert.equal((await compile([], { GOFLAGS: '-tags=netgo' })).cached, false);
    assert.equal((await compile([], { GOFLAGS: '-tags=netgo' })).cached, true);
  });

  test('a damaged cached binary is rebuilt, never served', async () => {
    const good = await compile();
    const blobs = join(cacheRoot, 'binaries');
    for (const name of (await readdir(blobs)).filter((file) => /^[0-9a-f]{64}$/.test(file)))
      await writeFile(join(blobs, name), 'damaged');
    const rebuilt = await compile();
    assert.equal(rebuilt.cached, false);
    assert.equal(rebuilt.sha256, good.sha256);
  });

  test('the progress line says a binary came from the cache', async () => {
    await compile();
    const result = await goci(
      ['compile', '.', '--platform', 'linux/amd64', '--version', '1.0.0', '--progress', 'plain'],
      { cwd: repo, env },
    );
    assert.match(result.stderr, /^goci: compiled \S+ linux\/amd64 \(\d+\.\d MiB, cached\)$/m);
  });

  test('a run keeps the cache within GOCI_CACHE_MAX_BYTES while Go compiles: binaries of earlier runs go, its own stays', async () => {
    const small = await temporaryDirectory('binary-cache-small');
    const limited = { GOCI_CACHE_DIR: small, GOCI_CACHE_MAX_BYTES: '1' };
    const before = await compile(['--buildvcs', 'false'], limited);
    const main = join(repo, 'main.go');
    await writeFile(main, (await readFile(main, 'utf8')).replace('fmt.Println(', 'fmt.Print("> ");fmt.Println('));
    const after = await compile(['--buildvcs', 'false'], limited);
    await git(repo, 'commit', '-qam', 'prompt');
    const held = (await readdir(join(small, 'binaries'))).filter((file) => /^[0-9a-f]{64}$/.test(file));
    await removeDirectory(small);
    assert.notEqual(after.sha256, before.sha256);
    assert.deepEqual(held, [after.sha256]);
  });
});
