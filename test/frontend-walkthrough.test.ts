import assert from 'node:assert/strict';
import { mkdir, readFile, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { execa } from 'execa';
import { DOCKER_CLI, docker, startDockerd, type DockerdHarness } from './support/dockerd.js';
import { CLI, REPO_ROOT, goci } from './support/goci.js';
import { exampleRepository, git, removeDirectory, temporaryDirectory } from './support/workspace.js';

/**
 * Issue 14, acceptance 3: the README's frontend walk-through, its lines taken from the README
 * itself (not a retyped copy) and run by bash on dockerd 20.10 without internet: the frontend
 * image, the Go image of this machine's toolchain, and `docker build` with the build args from
 * git. The image it makes has the labels `goci build` gives the same commit.
 */

const FIRST_LINE = '    goci frontend-image --load';

/** The indented command lines of the walk-through, as the README shows them. */
async function walkthrough(): Promise<string[]> {
  const readme = await readFile(join(REPO_ROOT, 'README.md'), 'utf8');
  const start = readme.indexOf(FIRST_LINE);
  assert.ok(start > 0, 'the README has the walk-through');
  const block = readme.slice(start, readme.indexOf('\n\n', start));
  return block.split('\n').map((line) => line.trim());
}

let daemon: DockerdHarness;
let work: string;
let repo: string;
let env: NodeJS.ProcessEnv;

before(async () => {
  [daemon, work, repo] = await Promise.all([
    startDockerd(),
    temporaryDirectory('walkthrough'),
    exampleRepository('hello', 'walkthrough-hello'),
  ]);
  await git(repo, 'tag', 'v1.2.3');
  // goci on PATH as an installed package puts it there; docker is dockerd 20.10's own client.
  const bin = join(work, 'bin');
  await mkdir(bin);
  await symlink(CLI, join(bin, 'goci'));
  await symlink(DOCKER_CLI, join(bin, 'docker'));
  env = { ...daemon.env, PATH: `${bin}:${process.env.PATH ?? ''}` };
});
after(async () => {
  await daemon?.stop();
  await Promise.all([work, repo].map(removeDirectory));
});

async function labelsOf(image: string): Promise<Record<string, string>> {
  const inspected = await docker(['image', 'inspect', '--format', '{{json .Config.Labels}}', image], daemon);
  assert.equal(inspected.exitCode, 0, String(inspected.stderr));
  return JSON.parse(String(inspected.stdout)) as Record<string, string>;
}

describe("the README's frontend walk-through, offline on dockerd 20.10", () => {
  test('runs as written, and the image has the labels goci build gives the same commit', async () => {
    const lines = await walkthrough();
    assert.equal(lines.length, 3);
    for (const line of lines) {
      const result = await execa('bash', ['-e', '-o', 'pipefail', '-c', line], {
        cwd: repo,
        env,
        extendEnv: false,
        reject: false,
      });
      assert.equal(result.exitCode, 0, `${line}\n${result.stdout}\n${result.stderr}`);
    }
    const cli = await goci(['build', '--platform', 'linux/amd64', '--load', '--tag', 'cli'], { cwd: repo, env });
    assert.equal(cli.exitCode, 0, cli.stderr);
    const fromFrontend = await labelsOf('server');
    assert.deepEqual(fromFrontend, await labelsOf('hello:cli'));
    assert.equal(fromFrontend['org.opencontainers.image.version'], '1.2.3');
    assert.equal(fromFrontend['org.opencontainers.image.revision'], await git(repo, 'rev-parse', 'HEAD'));
    const run = await docker(['run', '--rm', '--network', 'none', 'server'], daemon);
    assert.equal(String(run.stdout).split('\n')[0], '1.2.3 linux amd64');
  });
});
