import assert from 'node:assert/strict';
import { cp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { docker, startDockerd, type DockerdHarness } from './support/dockerd.js';
import { GO_BUILDER_IMAGE, loadFrontendImage, loadGoBuilderImage } from './support/frontend-images.js';
import { REPO_ROOT, goci } from './support/goci.js';
import { BASE_RUNTIME, pushBaseImage } from './support/base-image.js';
import { monorepo } from './support/monorepo.js';
import { skopeoConfig } from './support/oci.js';
import { startRegistry, type RegistryHarness } from './support/registry.js';
import { removeDirectory, temporaryDirectory } from './support/workspace.js';

const EPOCH = '1714564800';
let daemon: DockerdHarness;
let work: string;

/** A copy of an example (not a git checkout, so the CLI and the frontend see the same inputs). */
async function example(name: string, as: string): Promise<string> {
  const dir = join(work, as);
  await cp(join(REPO_ROOT, 'examples', name), dir, { recursive: true });
  return dir;
}

/** `docker build -f goci.yaml` through goci's frontend, with BuildKit, as a user runs it. */
async function dockerBuild(
  dir: string,
  platform: string,
  tag: string,
  extraArgs: string[] = [],
): Promise<{ exitCode: number; output: string }> {
  const result = await docker(
    [
      'build',
      '--progress',
      'plain',
      '-f',
      join(dir, 'goci.yaml'),
      '--build-arg',
      `GO_IMAGE=${GO_BUILDER_IMAGE}`,
      '--build-arg',
      'VERSION=1.2.3',
      '--build-arg',
      `SOURCE_DATE_EPOCH=${EPOCH}`,
      '--platform',
      platform,
      '-t',
      tag,
      ...extraArgs,
      dir,
    ],
    { env: { ...daemon.env, DOCKER_BUILDKIT: '1' } },
    { timeoutMs: 1_200_000 },
  );
  return { exitCode: result.exitCode ?? -1, output: `${String(result.stdout ?? '')}\n${String(result.stderr ?? '')}` };
}

/** Seconds BuildKit reports for the go build step in a plain progress log. */
function goBuildSeconds(output: string): number {
  const step = /^#(\d+) \[goci\] go build/m.exec(output);
  assert.ok(step, 'no go build step in the log');
  const done = new RegExp(`^#${step[1]} DONE ([\\d.]+)s`, 'm').exec(output);
  return done ? Number(done[1]) : 0;
}

async function cacheMountIds(): Promise<string[]> {
  const { stdout } = await docker(['system', 'df', '-v'], daemon);
  return String(stdout)
    .split('\n')
    .filter((line) => line.includes('exec.cachemount'))
    .map((line) => line.split(/\s+/)[0]!)
    .sort();
}

before(async () => {
  work = await temporaryDirectory('frontend');
  daemon = await startDockerd();
  await Promise.all([loadFrontendImage(daemon, work), loadGoBuilderImage(daemon, work, '1.19')]);
});
after(async () => {
  await daemon?.stop();
  await removeDirectory(work);
});

describe('docker build -f goci.yaml (the # syntax= frontend)', () => {
  test("Go's build cache is kept between builds: a one-line change compiles faster, in the same cache mount", async () => {
    const dir = await example('hello', 'cache');
    const cold = await dockerBuild(dir, 'linux/arm64', 'cache:cold');
    assert.equal(cold.exitCode, 0, cold.output);
    const mounts = await cacheMountIds();
    const main = join(dir, 'main.go');
    await writeFile(main, (await readFile(main, 'utf8')).replace('"%s %s %s\\n"', '"%s %s %s \\n"'));
    const warm = await dockerBuild(dir, 'linux/arm64', 'cache:warm');
    assert.equal(warm.exitCode, 0, warm.output);
    const [coldSeconds, warmSeconds] = [goBuildSeconds(cold.output), goBuildSeconds(warm.output)];
    console.log(`go build step: cold cache ${coldSeconds}s, after a one-line change ${warmSeconds}s`);
    assert.ok(
      warmSeconds < coldSeconds,
      `the second compile (${warmSeconds}s) was not faster than the first (${coldSeconds}s)`,
    );
    assert.equal(mounts.length, 2, 'GOCACHE and GOMODCACHE mounts');
    assert.deepEqual(await cacheMountIds(), mounts, 'the same cache mounts were used again');
  });

  test('examples/hello for linux/arm64 builds and, under qemu, prints 1.2.3 linux arm64', async () => {
    const result = await dockerBuild(join(REPO_ROOT, 'examples', 'hello'), 'linux/arm64', 'hello:fe');
    assert.equal(result.exitCode, 0, result.output);
    const run = await docker(['run', '--rm', '--network', 'none', 'hello:fe'], daemon);
    assert.equal(String(run.stdout).split('\n')[0], '1.2.3 linux arm64', String(run.stderr));
  });

  test('examples/server for linux/amd64 has the same config as goci build of the same version: labels, env, user, entrypoint, workdir', async () => {
    const dir = await example('server', 'server');
    const built = await dockerBuild(dir, 'linux/amd64', 'server:fe');
    assert.equal(built.exitCode, 0, built.output);
    const fromFrontend = JSON.parse(
      String((await docker(['image', 'inspect', '--format', '{{json .Config}}', 'server:fe'], daemon)).stdout),
    ) as Record<string, unknown>;
    const cli = await goci(
      ['build', '.', '--platform', 'linux/amd64', '--version', '1.2.3', '--sbom', 'none', '--progress', 'plain'],
      { cwd: dir, env: { ...process.env, SOURCE_DATE_EPOCH: EPOCH } },
    );
    assert.equal(cli.exitCode, 0, cli.stderr);
    const fromCli = (await skopeoConfig(join(dir, 'dist', 'oci'), '1.2.3', { arch: 'amd64' })).config as Record<
      string,
      unknown
    >;
    for (const field of ['Labels', 'Env', 'User', 'Entrypoint', 'WorkingDir'])
      assert.deepEqual(fromFrontend[field], fromCli[field], field);
    const run = await docker(
      ['run', '--rm', '--network', 'none', '--entrypoint', '/usr/local/bin/server', 'server:fe', '-h'],
      daemon,
    );
    assert.match(`${String(run.stdout)}${String(run.stderr)}`, /-addr/);
  });
});

describe('docker build -f goci.yaml on a registry base (build arg BASE)', () => {
  let registry: RegistryHarness;
  let baseRef: string;
  let fromFrontend: Record<string, any>;
  let cliConfig: Record<string, any>;

  before(async () => {
    registry = await startRegistry();
    baseRef = `${registry.host}/base:1`;
    await pushBaseImage(work, baseRef, ['linux/amd64']);
    const dir = await example('server', 'on-base');
    const built = await dockerBuild(dir, 'linux/amd64', 'server:on-base', ['--build-arg', `BASE=${baseRef}`]);
    assert.equal(built.exitCode, 0, built.output);
    fromFrontend = JSON.parse(
      String((await docker(['image', 'inspect', '--format', '{{json .}}', 'server:on-base'], daemon)).stdout),
    ) as Record<string, any>;
    const cliDir = await example('server', 'on-base-cli');
    const cli = await goci(
      ['build', '.', '--base', baseRef, '--platform', 'linux/amd64', '--version', '1.2.3', '--sbom', 'none'],
      { cwd: cliDir, env: { ...process.env, SOURCE_DATE_EPOCH: EPOCH } },
    );
    assert.equal(cli.exitCode, 0, cli.stderr);
    cliConfig = await skopeoConfig(join(cliDir, 'dist', 'oci'), '1.2.3', { arch: 'amd64' });
  });
  after(async () => {
    await registry?.stop();
  });

  test("the image's first layer is the base image's (its diff_id)", async () => {
    const baseDiffId = cliConfig.rootfs.diff_ids[0];
    assert.equal(fromFrontend.RootFS.Layers[0], baseDiffId);
    assert.ok(fromFrontend.RootFS.Layers.length > 1, "goci's layers follow the base's");
  });

  test("the config is what goci build makes on the same base: env, user and workdir inherited, the rest goci.yaml's", async () => {
    const fields = Object.keys(cliConfig.config);
    assert.deepEqual(fields.sort(), ['Entrypoint', 'Env', 'Labels', 'User', 'WorkingDir']);
    for (const field of fields) assert.deepEqual(fromFrontend.Config[field], cliConfig.config[field], field);
    assert.deepEqual(fromFrontend.Config.Env.slice(0, 3), BASE_RUNTIME.env);
    assert.deepEqual([fromFrontend.Config.User, fromFrontend.Config.WorkingDir], ['1000:1000', '/srv']);
    // The base's entrypoint, cmd, ports, stop signal and labels are not inherited, as in the CLI.
    assert.equal(fromFrontend.Config.Cmd, null);
    assert.equal(fromFrontend.Config.ExposedPorts, undefined);
    assert.equal(fromFrontend.Config.StopSignal, undefined);
    assert.equal(fromFrontend.Config.Labels['org.example.base'], undefined);
  });
});

describe('docker build --target NAME: one image of an images: list', () => {
  const spec = [
    '# syntax=goci.dev/frontend:0.1',
    'builds: [{main: ./cmd/app}, {main: ./cmd/worker}]',
    'images: [{binaries: [app]}, {binaries: [worker], repository: team-worker}]',
    '',
  ].join('\n');

  test("--target chooses the image by its goci.yaml name: the worker's entrypoint", async () => {
    const dir = await monorepo({ 'goci.yaml': spec });
    try {
      const built = await dockerBuild(dir, 'linux/amd64', 'worker:fe', ['--target', 'team-worker']);
      assert.equal(built.exitCode, 0, built.output);
      const inspected = await docker(
        ['image', 'inspect', '--format', '{{json .Config.Entrypoint}}', 'worker:fe'],
        daemon,
      );
      assert.deepEqual(JSON.parse(String(inspected.stdout)), ['/usr/local/bin/worker']);
    } finally {
      await removeDirectory(dir);
    }
  });

  test('without --target, several images are refused, naming them', async () => {
    const dir = await monorepo({ 'goci.yaml': spec });
    try {
      const result = await dockerBuild(dir, 'linux/amd64', 'which:fe');
      assert.notEqual(result.exitCode, 0);
      assert.ok(
        result.output.includes('goci: goci.yaml: images: 2 images (app, team-worker) (choose one with --target NAME)'),
        result.output,
      );
    } finally {
      await removeDirectory(dir);
    }
  });
});

describe('errors reach the docker build output', () => {
  test('an invalid goci.yaml', async () => {
    const dir = await example('hello', 'bad-yaml');
    await writeFile(join(dir, 'goci.yaml'), '# syntax=goci.dev/frontend:0.1\nbuilds: {id: hello}\n');
    const result = await dockerBuild(dir, 'linux/amd64', 'bad:yaml');
    assert.notEqual(result.exitCode, 0);
    assert.match(result.output, /goci: goci\.yaml: builds: expected a list of builds, found a mapping/);
  });

  test('an unknown name in image.binaries: the same BAD_SPEC message as goci build', async () => {
    const dir = await example('hello', 'bad-binaries');
    const spec = await readFile(join(dir, 'goci.yaml'), 'utf8');
    await writeFile(join(dir, 'goci.yaml'), `${spec}image:\n  binaries: [hello, nope]\n`);
    const message = 'goci.yaml: image.binaries[1]: no build is called "nope"; builds are hello';
    const fromFrontend = await dockerBuild(dir, 'linux/amd64', 'bad:binaries');
    assert.notEqual(fromFrontend.exitCode, 0);
    assert.ok(fromFrontend.output.includes(`goci: ${message}`), fromFrontend.output);
    const fromCli = await goci(['build', '.', '--platform', 'linux/amd64', '--dry-run'], { cwd: dir });
    assert.notEqual(fromCli.exitCode, 0);
    assert.ok(fromCli.stderr.includes(message), fromCli.stderr);
  });

  test('an unknown platform', async () => {
    const result = await dockerBuild(await example('hello', 'bad-platform'), 'linux/sparc99', 'bad:platform');
    assert.notEqual(result.exitCode, 0);
    assert.match(result.output, /goci: platform: "linux\/sparc99" is not a platform this Go toolchain can build/);
  });

  test("PROVENANCE=true on dockerd 20.10's BuildKit, which takes no attestations, is refused rather than dropped", async () => {
    const dir = await example('hello', 'no-attestations');
    const result = await dockerBuild(dir, 'linux/amd64', 'bad:provenance', ['--build-arg', 'PROVENANCE=true']);
    assert.notEqual(result.exitCode, 0);
    assert.ok(
      result.output.includes(
        'goci: build arg PROVENANCE=true: this BuildKit takes no attestations from a frontend (build with BuildKit ' +
          'v0.11 or later (docker buildx, buildctl), or leave PROVENANCE out)',
      ),
      result.output,
    );
  });

  test('a build without a go.mod: the frontend builds modules only, and says so', async () => {
    const dir = await example('hello', 'no-module');
    await rm(join(dir, 'go.mod'));
    const result = await dockerBuild(dir, 'linux/amd64', 'bad:gopath');
    assert.notEqual(result.exitCode, 0);
    assert.ok(
      result.output.includes(
        'goci: goci.yaml: builds[0]: no go.mod in the build context for . (the frontend builds Go modules: add a ' +
          'go.mod (go mod init), or build it with the goci CLI in its GOPATH)',
      ),
      result.output,
    );
  });

  test(".git and dist stay out of the context unless .dockerignore takes them back: image.files can't name them", async () => {
    const dir = await example('hello', 'excluded');
    await mkdir(join(dir, 'dist'), { recursive: true });
    await writeFile(join(dir, 'dist', 'notes.txt'), 'built before\n');
    const spec = await readFile(join(dir, 'goci.yaml'), 'utf8');
    await writeFile(join(dir, 'goci.yaml'), `${spec}image:\n  files: [{src: dist/notes.txt, dst: /notes.txt}]\n`);
    const excluded = await dockerBuild(dir, 'linux/amd64', 'excluded:dist');
    assert.notEqual(excluded.exitCode, 0);
    assert.match(excluded.output, /goci: goci\.yaml: image\.files\[0\]\.src: dist\/notes\.txt does not exist/);
    await mkdir(join(dir, '.git'), { recursive: true });
    await writeFile(join(dir, '.git', 'HEAD'), 'ref: refs/heads/main\n');
    await writeFile(join(dir, 'goci.yaml'), `${spec}image:\n  files: [{src: .git/HEAD, dst: /HEAD}]\n`);
    const git = await dockerBuild(dir, 'linux/amd64', 'excluded:git');
    assert.notEqual(git.exitCode, 0);
    assert.match(git.output, /goci: goci\.yaml: image\.files\[0\]\.src: \.git\/HEAD does not exist/);
    await writeFile(join(dir, 'goci.yaml'), `${spec}image:\n  files: [{src: dist/notes.txt, dst: /notes.txt}]\n`);
    await writeFile(join(dir, '.dockerignore'), '!dist\n');
    const included = await dockerBuild(dir, 'linux/amd64', 'included:dist');
    assert.equal(included.exitCode, 0, included.output);
  });

  test("a Go syntax error shows go's file:line", async () => {
    const dir = await example('hello', 'bad-go');
    await writeFile(join(dir, 'broken.go'), 'package main\n\nfunc broken() {\n\tx :=\n}\n');
    const result = await dockerBuild(dir, 'linux/amd64', 'bad:go');
    assert.notEqual(result.exitCode, 0);
    assert.match(result.output, /broken\.go:5:1: syntax error/);
    assert.match(result.output, /goci: /);
  });
});
