import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { cp, readFile } from 'node:fs/promises';
import { availableParallelism, totalmem } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { execa } from 'execa';
import { collectorSettings, type CollectorFacts } from '../compiler/collector.js';
import { defaultJobs } from '../compiler/default-jobs.js';
import { REPO_ROOT, goci } from './support/goci.js';
import { removeDirectory, temporaryDirectory } from './support/workspace.js';

const made: string[] = [];
after(async () => Promise.all(made.map(removeDirectory)));

const GIB = 1024 ** 3;
/** This machine's kind: 2 cores, 24 GiB, three targets built at once, Debian's Go. */
const MACHINE: CollectorFacts = {
  goVersion: 'go1.19.8',
  concurrentBuilds: 3,
  cpus: 2,
  totalMemory: 24 * GIB,
  env: {},
};

describe('how go build collects garbage', () => {
  test('with room for 1 GiB per compile, the collector is off up to half the memory shared among them', () => {
    assert.deepEqual(collectorSettings(MACHINE), { GOGC: 'off', GOMEMLIMIT: '2048MiB' });
  });

  test('the limit is at most 4 GiB, however much memory the machine has', () => {
    assert.deepEqual(collectorSettings({ ...MACHINE, concurrentBuilds: 1, cpus: 1, totalMemory: 256 * GIB }), {
      GOGC: 'off',
      GOMEMLIMIT: '4096MiB',
    });
  });

  test('a machine with less than 1 GiB per compile keeps Go’s defaults', () => {
    assert.deepEqual(collectorSettings({ ...MACHINE, concurrentBuilds: 4, totalMemory: 7 * GIB }), {});
  });

  test('a GOGC of the user’s wins, and goci adds no limit to it', () => {
    assert.deepEqual(collectorSettings({ ...MACHINE, env: { GOGC: '200' } }), {});
  });

  test('a GOMEMLIMIT of the user’s wins', () => {
    assert.deepEqual(collectorSettings({ ...MACHINE, env: { GOMEMLIMIT: '512MiB' } }), {});
  });

  test('toolchains before Go 1.19 have no GOMEMLIMIT and keep their defaults', () => {
    assert.deepEqual(collectorSettings({ ...MACHINE, goVersion: 'go1.18.10' }), {});
  });

  test('a toolchain whose release goci could not read keeps its defaults', () => {
    assert.deepEqual(collectorSettings({ ...MACHINE, goVersion: undefined }), {});
  });

  test('later releases, two-digit minors included, get the settings', () => {
    assert.deepEqual(collectorSettings({ ...MACHINE, goVersion: 'go1.23.4' }), {
      GOGC: 'off',
      GOMEMLIMIT: '2048MiB',
    });
  });
});

describe("go build under goci's collector settings", () => {
  test('writes the bytes plain go build writes for the same command', async (context) => {
    const machine = {
      goVersion: 'go1.19.8',
      concurrentBuilds: Math.min(defaultJobs(), 2),
      cpus: availableParallelism(),
    };
    if (Object.keys(collectorSettings({ ...machine, totalMemory: totalmem(), env: {} })).length === 0)
      context.skip('this machine has too little memory per compile for goci to change the collector');
    const dir = await temporaryDirectory('collector');
    made.push(dir);
    await cp(join(REPO_ROOT, 'examples', 'hello'), dir, { recursive: true });
    const env: NodeJS.ProcessEnv = { ...process.env, GOCI_CACHE_DIR: join(dir, 'cache') };
    delete env.GOGC;
    delete env.GOMEMLIMIT;
    const args = ['compile', dir, '--platform', 'linux/amd64,linux/arm64', '--version', '1.0.0', '--buildvcs', 'false'];
    const built = await goci([...args, '--no-cache', '--json', '--dist', join(dir, 'dist')], { env });
    assert.equal(built.exitCode, 0, built.stderr);
    const planned = await goci([...args, '--dry-run', '--json', '--dist', join(dir, 'plain')], { env });
    const { commands } = JSON.parse(planned.stdout) as {
      commands: { cwd: string; env: Record<string, string>; go: string; args: string[] }[];
    };
    const binaries = (JSON.parse(built.stdout) as { binaries: { sha256: string }[] }).binaries;
    for (const [position, command] of commands.entries()) {
      // The plan's command as a user would run it: Go's default collector.
      await execa(command.go, command.args, { cwd: command.cwd, env: { ...env, ...command.env } });
      const output = command.args[command.args.indexOf('-o') + 1]!;
      const plain = createHash('sha256')
        .update(await readFile(output))
        .digest('hex');
      assert.equal(binaries[position]?.sha256, plain);
    }
  });
});
