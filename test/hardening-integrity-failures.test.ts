import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import { CLI, goci, lastLine } from './support/goci.js';
import { childPids, snapshot } from './support/integrity.js';
import { alive, waitForExit } from './support/process.js';
import { startProxy, type RegistryProxy } from './support/proxy.js';
import { startRegistry, type RegistryHarness } from './support/registry.js';
import { exampleRepository, removeDirectory, temporaryDirectory } from './support/workspace.js';

// Issue 10, break 7 (and the environment part of 9): a failed or stopped run leaves outputs as
// they were; a full disk and a read-only file system are said as such (exit 1).

const PLATFORMS = 'linux/amd64,linux/arm64,linux/arm/v7';
const made: string[] = [];
const mounts: string[] = [];
let repo: string;

before(async () => {
  repo = await exampleRepository('hello', 'integrity-failures');
  made.push(repo);
});
after(async () => {
  for (const mount of mounts.reverse()) await execa('umount', [mount], { reject: false });
  await Promise.all(made.map(removeDirectory));
});

async function scratch(prefix: string): Promise<string> {
  const dir = await temporaryDirectory(prefix);
  made.push(dir);
  return dir;
}

const env = { ...process.env, SOURCE_DATE_EPOCH: '1714564800' };

interface CompileJson {
  binaries: { path: string; size: number }[];
}

describe('a full disk (ENOSPC) while binaries move into --dist', () => {
  test('goci compile of three binaries into a tmpfs with room for two: exit 1, ENOSPC, dist as before', async () => {
    const compile = (dist: string): string[] => {
      return ['compile', '.', '--platform', PLATFORMS, '--version', '1.0.0', '--dist', dist];
    };
    const probe = await goci([...compile(await scratch('integrity-probe')), '--json'], { cwd: repo, env });
    assert.equal(probe.exitCode, 0, probe.stderr);
    const binaries = (JSON.parse(probe.stdout) as CompileJson).binaries;
    const names = binaries.map((binary) => binary.path.split('/').at(-1)!);
    const page = 4096;
    const pages = (size: number): number => Math.ceil(size / page) * page;
    // Room for the old file, the directory and the first two binaries, not the third.
    const size = pages(binaries[0]!.size) + pages(binaries[1]!.size) + 16 * page;
    assert.ok(size < pages(binaries[0]!.size) + pages(binaries[1]!.size) + pages(binaries[2]!.size));
    const dist = await scratch('integrity-enospc');
    await execa('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dist]);
    mounts.push(dist);
    await mkdir(join(dist, 'bin'));
    await writeFile(join(dist, 'bin', names[0]!), 'an older binary\n');
    const before = await snapshot(dist);

    const result = await goci(compile(dist), { cwd: repo, env });
    assert.equal(result.exitCode, 1, result.stderr);
    const hint = 'free space on that file system or choose another --dist or --oci-layout';
    const third = join(dist, 'bin', names[2]!);
    const expected = `goci: cannot write ${third}: no space left on the device (ENOSPC) (${hint})`;
    assert.equal(lastLine(result.stderr), expected);
    assert.deepEqual(await snapshot(dist), before);
    const { stdout } = await execa('df', ['--output=used', '-B1', dist]);
    assert.ok(Number(stdout.split('\n')[1]) < pages(binaries[0]!.size), 'the disk was left full');
  });
});

describe('a full disk (ENOSPC) during goci build', () => {
  const page = 4096;
  const pages = (size: number): number => Math.ceil(size / page) * page;

  async function tmpfsDist(size: number): Promise<{ dist: string; before: string[] }> {
    const dist = await scratch('integrity-build-enospc');
    await execa('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dist]);
    mounts.push(dist);
    await writeFile(join(dist, 'keep.txt'), 'before\n');
    return { dist, before: await snapshot(dist) };
  }

  async function usedBytes(dir: string): Promise<number> {
    const { stdout } = await execa('df', ['--output=used', '-B1', dir]);
    return Number(stdout.split('\n')[1]);
  }

  const args = (dist: string): string[] => {
    return ['build', '.', '--platform', 'linux/amd64', '--version', '1.0.0', '--dist', dist];
  };

  test('room for the staged layout, not the binary: exit 1 naming the binary, dist rolled back', async () => {
    const probe = await scratch('integrity-build-probe');
    const probed = await goci([...args(probe), '--json'], { cwd: repo, env });
    assert.equal(probed.exitCode, 0, probed.stderr);
    const blobs = await readdir(join(probe, 'oci', 'blobs', 'sha256'));
    let layoutBytes = 0;
    for (const name of blobs) layoutBytes += pages((await stat(join(probe, 'oci', 'blobs', 'sha256', name))).size);
    const binary = (await readdir(join(probe, 'bin')))[0]!;
    const binarySize = (await stat(join(probe, 'bin', binary))).size;
    const { dist, before } = await tmpfsDist(layoutBytes + 32 * page + pages(binarySize) / 2);

    const result = await goci(args(dist), { cwd: repo, env });
    assert.equal(result.exitCode, 1, result.stderr);
    const hint = 'free space on that file system or choose another --dist or --oci-layout';
    const path = join(dist, 'bin', binary);
    assert.equal(lastLine(result.stderr), `goci: cannot write ${path}: no space left on the device (ENOSPC) (${hint})`);
    assert.deepEqual(await snapshot(dist), before);
    assert.ok((await usedBytes(dist)) < 16 * page, 'the disk was left full');
  });

  test('no room for the staged layout: exit 1 naming the layout, dist as before', async () => {
    const { dist, before } = await tmpfsDist(48 * page);
    const cache = await scratch('integrity-build-enospc-cache');
    const result = await goci(args(dist), { cwd: repo, env: { ...env, GOCI_CACHE_DIR: cache } });
    assert.equal(result.exitCode, 1, result.stderr);
    const hint = 'free space on that file system or choose another --dist or --oci-layout';
    const layout = join(dist, 'oci');
    const expected = `goci: cannot write the OCI layout ${layout}: no space left on the device (ENOSPC) (${hint})`;
    assert.equal(lastLine(result.stderr), expected);
    assert.deepEqual(await snapshot(dist), before);
    assert.ok((await usedBytes(dist)) < 16 * page, 'the disk was left full');
  });
});

describe('a read-only file system (EROFS)', () => {
  let readOnly: string;
  let untouched: string[];

  before(async () => {
    const backing = await scratch('integrity-erofs');
    await writeFile(join(backing, 'keep.txt'), 'before\n');
    readOnly = await scratch('integrity-erofs-mount');
    await execa('mount', ['--bind', backing, readOnly]);
    mounts.push(readOnly);
    await execa('mount', ['-o', 'remount,bind,ro', readOnly]);
    untouched = await snapshot(readOnly);
  });

  test('goci compile --dist on a read-only mount: exit 1 naming the path and EROFS, before compiling', async () => {
    const args = ['compile', '.', '--platform', 'linux/amd64', '--version', '1.0.0', '--progress', 'plain'];
    args.push('--dist', readOnly);
    const result = await goci(args, { cwd: repo, env });
    assert.equal(result.exitCode, 1, result.stderr);
    const hint = 'choose a writable --dist or --oci-layout';
    assert.equal(result.stderr, `goci: cannot write ${join(readOnly, 'bin')}: read-only file system (EROFS) (${hint})`);
    assert.deepEqual(await snapshot(readOnly), untouched);
  });

  test('goci build --dist on a read-only mount: exit 1 naming the layout and EROFS, before compiling', async () => {
    const args = ['build', '.', '--platform', 'linux/amd64', '--version', '1.0.0', '--progress', 'plain'];
    args.push('--dist', readOnly);
    const result = await goci(args, { cwd: repo, env });
    assert.equal(result.exitCode, 1, result.stderr);
    const hint = 'choose a writable --dist or --oci-layout';
    const layout = join(readOnly, 'oci');
    assert.equal(result.stderr, `goci: cannot write the OCI layout ${layout}: read-only file system (EROFS) (${hint})`);
    assert.deepEqual(await snapshot(readOnly), untouched);
  });
});

describe('a build that fails after compiling leaves dist as it was', () => {
  let registry: RegistryHarness;
  let proxy: RegistryProxy;
  let baseLayers: RegExp;

  before(async () => {
    registry = await startRegistry();
    proxy = await startProxy(registry.url);
    const layout = join(await scratch('integrity-base-src'), 'oci');
    const args = ['build', '.', '--platform', 'linux/amd64', '--version', '0.1.0', '--sbom', 'none'];
    args.push('--oci-layout', layout);
    const built = await goci(args, { cwd: repo, env });
    assert.equal(built.exitCode, 0, built.stderr);
    const destination = `docker://${registry.host}/acme/base:1`;
    await execa('skopeo', ['copy', '--all', '--dest-tls-verify=false', `oci:${layout}:0.1.0`, destination]);
    const blob = async (digest: string): Promise<any> =>
      JSON.parse(await readFile(join(layout, 'blobs', 'sha256', digest.slice(7)), 'utf8'));
    const top = JSON.parse(await readFile(join(layout, 'index.json'), 'utf8')) as { manifests: { digest: string }[] };
    const index = await blob(top.manifests[0]!.digest);
    const manifest = await blob(index.manifests[0].digest);
    // Only the layers: the base's manifest and config resolve (before compiling), its layers fail later.
    baseLayers = new RegExp(`/blobs/(${manifest.layers.map((layer: { digest: string }) => layer.digest).join('|')})$`);
  });
  after(async () => {
    await proxy?.stop();
    await registry?.stop();
  });

  test('a digest mismatch on a base layer: exit 1, dist/bin and dist/oci byte-identical to before', async () => {
    const dist = join(await scratch('integrity-mismatch'), 'dist');
    const first = await goci(['build', '.', '--platform', 'linux/amd64', '--version', '1.0.0', '--dist', dist], {
      cwd: repo,
      env,
    });
    assert.equal(first.exitCode, 0, first.stderr);
    const before = await snapshot(dist);

    proxy.addFault({ method: 'GET', path: baseLayers, times: 50, fault: { kind: 'corrupt-response', at: 100 } });
    const cache = await scratch('integrity-mismatch-cache');
    const args = ['build', '.', '--platform', 'linux/amd64', '--version', '2.0.0'];
    args.push('--base', `${proxy.host}/acme/base:1`, '--dist', dist);
    const result = await goci(args, { cwd: repo, env: { ...env, GOCI_CACHE_DIR: cache } });
    proxy.clearFaults();
    assert.equal(result.exitCode, 1, result.stderr);
    assert.match(lastLine(result.stderr), /digest mismatch/);
    assert.ok(proxy.records.some((record) => record.fault === 'corrupt-response'));
    assert.deepEqual(await snapshot(dist), before);
    assert.deepEqual(
      (await readdir(join(dist, '..'))).filter((name) => name.includes('goci-')),
      [],
    );
  });

  test('a --tarball under a file: exit 1 before compiling, dist as before', async () => {
    const work = await scratch('integrity-late');
    const dist = join(work, 'dist');
    const first = await goci(['build', '.', '--platform', 'linux/amd64', '--version', '1.0.0', '--dist', dist], {
      cwd: repo,
      env,
    });
    assert.equal(first.exitCode, 0, first.stderr);
    await writeFile(join(work, 'not-a-dir'), 'a file\n');
    const before = await snapshot(dist);

    const args = ['build', '.', '--platform', 'linux/amd64', '--version', '2.0.0', '--dist', dist];
    const result = await goci([...args, '--tarball', join(work, 'not-a-dir', 'image.tar')], { cwd: repo, env });
    assert.equal(result.exitCode, 1, result.stderr);
    assert.equal(
      lastLine(result.stderr),
      `goci: cannot write the tarball into ${join(work, 'not-a-dir')}: a component of the path is not a directory ` +
        '(ENOTDIR) (choose a writable --tarball)',
    );
    assert.doesNotMatch(result.stderr, /^goci: compiled /m);
    assert.deepEqual(await snapshot(dist), before);
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

for (const [signal, code] of [
  ['SIGINT', 130],
  ['SIGTERM', 143],
] as const) {
  describe(`${signal} while go compiles`, () => {
    test(`goci build exits ${code} with one line; go and its compilers end, TMPDIR empty, dist as before`, async () => {
      const tmp = await scratch(`integrity-${signal}-tmp`);
      const goCache = await scratch(`integrity-${signal}-gocache`);
      const dist = join(await scratch(`integrity-${signal}-out`), 'dist');
      await mkdir(join(dist, 'bin'), { recursive: true });
      await writeFile(join(dist, 'bin', 'older'), 'older\n');
      const before = await snapshot(dist);
      // A cold Go build cache and goci cache: go is busy compiling the standard library.
      const cache = await scratch(`integrity-${signal}-cache`);
      const runEnv = { ...env, TMPDIR: tmp, GOCACHE: goCache, GOCI_CACHE_DIR: cache };
      const args = ['build', '.', '--platform', 'linux/amd64,linux/arm64', '--version', '1.0.0'];
      args.push('--dist', dist, '--progress', 'plain');
      const stdio: ['ignore', 'ignore', 'pipe'] = ['ignore', 'ignore', 'pipe'];
      const child = spawn(process.execPath, [CLI, ...args], { cwd: repo, env: runEnv, stdio });
      let stderr = '';
      child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const exited = new Promise<number | null>((resolve) => child.on('close', (exitCode) => resolve(exitCode)));
      const running = await waitForCompiler(child.pid!, tmp);
      child.kill(signal);
      const exitCode = await exited;

      assert.equal(exitCode, code, stderr);
      const expected = `goci: stopped by ${signal}; outputs are as they were and temporary files were removed`;
      assert.equal(lastLine(stderr), expected);
      for (const pid of running) assert.ok(await waitForExit(pid, undefined, 30_000), `process ${pid} still runs`);
      assert.deepEqual(await readdir(tmp), []);
      assert.deepEqual(await snapshot(dist), before);
    });
  });
}

/** Waits until goci's scratch directory exists and go has started a compiler; returns every process below goci. */
async function waitForCompiler(gociPid: number, tmp: string): Promise<number[]> {
  for (;;) {
    const scratchDirs = (await readdir(tmp)).filter((name) => name.startsWith('goci-compile-'));
    const below = await descendants(gociPid);
    const names = await Promise.all(below.map(commandName));
    const compiling = names.some((name) => name === 'compile' || name === 'asm');
    if (scratchDirs.length === 1 && names.includes('go') && compiling) return below;
    assert.ok(await alive(gociPid), 'goci ended before go started a compiler');
    await sleep(20);
  }
}
