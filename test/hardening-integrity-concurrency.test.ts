import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import { CLI, goci, lastLine } from './support/goci.js';
import { badBlobs, childPids, exists, snapshot, startToken } from './support/integrity.js';
import { alive, waitForExit } from './support/process.js';
import { exampleRepository, removeDirectory, temporaryDirectory } from './support/workspace.js';

// Issue 10, break 6: concurrent runs lose nothing; a killed run blocks nothing and leaves nothing.

const made: string[] = [];
let repo: string;

before(async () => {
  repo = await exampleRepository('hello', 'integrity-concurrency');
  made.push(repo);
});
after(async () => Promise.all(made.map(removeDirectory)));

async function scratch(prefix: string): Promise<string> {
  const dir = await temporaryDirectory(prefix);
  made.push(dir);
  return dir;
}

const TAGS_PER_RUN = 6;

function runArgs(run: number, layout: string): string[] {
  const tags = Array.from({ length: TAGS_PER_RUN }, (_, position) => ['--tag', `run${run}-${position}`]).flat();
  return [
    'build',
    '.',
    '--platform',
    'linux/amd64,linux/arm64',
    '--version',
    `1.0.${run}`,
    '--oci-layout',
    layout,
  ].concat(tags);
}

async function layoutTags(layout: string): Promise<string[]> {
  const text = await readFile(join(layout, 'index.json'), 'utf8');
  const index = JSON.parse(text) as { manifests: { annotations?: Record<string, string> }[] };
  const tags = index.manifests.map((entry) => entry.annotations?.['org.opencontainers.image.ref.name'] ?? '');
  return tags.filter((tag) => tag.startsWith('run')).sort();
}

/** Names goci leaves only while it runs: staging directories, temporary files, locks. */
async function leftovers(dir: string): Promise<string[]> {
  const names = (await readdir(dir, { recursive: true }).catch(() => [])) as string[];
  return names.filter((name) => /goci-/.test(name)).sort();
}

async function fourConcurrentBuilds(env: NodeJS.ProcessEnv, layout: string): Promise<void> {
  const results = await Promise.all([0, 1, 2, 3].map((run) => goci(runArgs(run, layout), { cwd: repo, env })));
  for (const result of results) assert.equal(result.exitCode, 0, result.stderr);
}

describe('concurrent goci build processes share one layout and one cache', () => {
  test('four builds into one layout and cache: all tags there, every blob verifies, skopeo reads each', async () => {
    const cache = await scratch('integrity-shared-cache');
    const out = await scratch('integrity-shared-out');
    const layout = join(out, 'oci');
    const env = { ...process.env, SOURCE_DATE_EPOCH: '1714564800', GOCI_CACHE_DIR: cache };
    await fourConcurrentBuilds(env, layout);

    const expected = [0, 1, 2, 3].flatMap((run) => Array.from({ length: TAGS_PER_RUN }, (_, at) => `run${run}-${at}`));
    expected.sort();
    assert.deepEqual(await layoutTags(layout), expected);
    assert.deepEqual(await badBlobs(layout), []);
    for (const run of [0, 1, 2, 3]) {
      const inspected = await execa('skopeo', ['inspect', '--raw', `oci:${layout}:run${run}-0`]);
      assert.equal((JSON.parse(inspected.stdout) as { manifests: unknown[] }).manifests.length, 2);
    }
    assert.deepEqual(await leftovers(out), []);
  });

  test('four builds, each evicting what the others copy (1-byte cache): all succeed, every blob verifies', async () => {
    const cache = await scratch('integrity-evicting-cache');
    const out = await scratch('integrity-evicting-out');
    const layout = join(out, 'oci');
    const env = { ...process.env, SOURCE_DATE_EPOCH: '1714564800', GOCI_CACHE_DIR: cache, GOCI_CACHE_MAX_BYTES: '1' };
    await fourConcurrentBuilds(env, layout);
    assert.equal((await layoutTags(layout)).length, 4 * TAGS_PER_RUN);
    assert.deepEqual(await badBlobs(layout), []);
    assert.deepEqual(await leftovers(join(cache, 'layers')), []);
  });
});

describe('a goci run killed with SIGKILL', () => {
  test("killed while go compiles: dist untouched; the next run succeeds, sweeps the dead run's scratch", async () => {
    const tmp = await scratch('integrity-kill-tmp');
    const goCache = await scratch('integrity-kill-gocache');
    const cache = await scratch('integrity-kill-cache');
    const dist = join(repo, 'dist', 'killed');
    await mkdir(join(dist, 'oci'), { recursive: true });
    await writeFile(join(dist, 'keep.txt'), 'before\n');
    const before = await snapshot(dist);
    // A cold Go build cache: go is busy compiling the standard library for a while.
    const env: NodeJS.ProcessEnv = { ...process.env, TMPDIR: tmp, GOCACHE: goCache, GOCI_CACHE_DIR: cache };
    env.SOURCE_DATE_EPOCH = '1714564800';
    const args = ['build', '.', '--platform', 'linux/amd64', '--version', '1.0.0', '--dist', dist];
    const child = spawn(process.execPath, [CLI, ...args], { cwd: repo, env, stdio: 'ignore' });
    const goPids = await waitForGo(child.pid!, tmp);
    child.kill('SIGKILL');
    await waitForExit(child.pid!, child, 60_000);
    // What a container kill does to the whole tree: go and its compilers die too.
    for (const pid of [...goPids, ...(await Promise.all(goPids.map(descendants))).flat()]) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Gone already.
      }
    }
    for (const pid of goPids) assert.ok(await waitForExit(pid, undefined, 60_000));
    assert.deepEqual(await snapshot(dist), before);
    assert.deepEqual((await readdir(tmp)).filter((name) => name.startsWith('goci-compile-')).length, 1);

    const next = await goci(args, { cwd: repo, env });
    assert.equal(next.exitCode, 0, next.stderr);
    assert.deepEqual(await badBlobs(join(dist, 'oci')), []);
    assert.deepEqual(
      (await readdir(tmp)).filter((name) => name.startsWith('goci-')),
      [],
    );
    assert.deepEqual(await leftovers(dist), []);
  });

  test('a lock left by a killed run does not block the next run, which removes it', async () => {
    const out = await scratch('integrity-stale-lock');
    const layout = join(out, 'oci');
    // A process that held the lock and died (kill -9 leaves the lock file behind).
    const dead = spawn('sleep', ['60'], { stdio: 'ignore' });
    const token = await startToken(dead.pid!);
    dead.kill('SIGKILL');
    await waitForExit(dead.pid!, dead, 10_000);
    assert.equal(await alive(dead.pid!), false);
    await mkdir(layout);
    await writeFile(join(layout, '.goci-lock'), `${dead.pid}-${token}\n`);

    const args = ['build', '.', '--platform', 'linux/amd64', '--version', '1.0.0', '--oci-layout', layout];
    args.push('--tag', 'after-kill');
    const result = await goci(args, { cwd: repo, env: { ...process.env, GOCI_LOCK_TIMEOUT: '5' } });
    assert.equal(result.exitCode, 0, result.stderr);
    assert.deepEqual(await badBlobs(layout), []);
    assert.equal(await exists(join(layout, '.goci-lock')), false);
  });

  test('a lock held by a live run makes the next run wait, then fail with the lock file named', async () => {
    const out = await scratch('integrity-live-lock');
    const layout = join(out, 'oci');
    const holder = spawn('sleep', ['600'], { stdio: 'ignore' });
    try {
      await mkdir(layout);
      await writeFile(join(layout, '.goci-lock'), `${holder.pid}-${await startToken(holder.pid!)}\n`);
      const before = await snapshot(out);
      const args = ['build', '.', '--platform', 'linux/amd64', '--version', '1.0.0', '--oci-layout', layout];
      const result = await goci(args, { cwd: repo, env: { ...process.env, GOCI_LOCK_TIMEOUT: '1' } });
      assert.equal(result.exitCode, 1, result.stderr);
      assert.equal(
        lastLine(result.stderr),
        `goci: another goci run (pid ${holder.pid}) holds the lock ${join(layout, '.goci-lock')} ` +
          'and did not release it in 1 s ' +
          '(wait for that run to finish; raise the wait with GOCI_LOCK_TIMEOUT=<seconds>)',
      );
      assert.deepEqual(await snapshot(out), before);
    } finally {
      holder.kill('SIGKILL');
    }
  });
});

/** A process's command name (/proc/PID/comm), or '' once it is gone. */
async function commandName(pid: number): Promise<string> {
  return readFile(`/proc/${pid}/comm`, 'utf8').then(
    (text) => text.trim(),
    () => '',
  );
}

/** The pids below `pid` (children, grandchildren, …). */
async function descendants(pid: number): Promise<number[]> {
  const direct = await childPids(pid);
  return [...direct, ...(await Promise.all(direct.map(descendants))).flat()];
}

/** Waits until goci's scratch directory exists and go has started a compiler; returns every process below goci. */
async function waitForGo(gociPid: number, tmp: string): Promise<number[]> {
  for (;;) {
    const scratchDirs = (await readdir(tmp)).filter((name) => name.startsWith('goci-compile-'));
    const below = await descendants(gociPid);
    const names = await Promise.all(below.map(commandName));
    const compiling = names.some((name) => name === 'compile' || name === 'asm' || name === 'link');
    if (scratchDirs.length === 1 && names.includes('go') && compiling) return below;
    assert.ok(await alive(gociPid), 'goci ended before go started');
    await sleep(20);
  }
}
