import assert from 'node:assert/strict';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { execa } from 'execa';
import { foreignGoBuilderImage, resolveInside, type ForeignGoBuilderImage } from './support/foreign-go-builder.js';
import { docker, startDockerd, type DockerdHarness } from './support/dockerd.js';
import { loadBuiltGoBuilder, loadGoBuilderImage } from './support/frontend-images.js';
import { removeDirectory, temporaryDirectory } from './support/workspace.js';

/**
 * Go builder images FOR arm64 and arm/v7 (Debian's foreign-architecture toolchain, made with
 * goci's image code), checked in a real dockerd 20.10 under qemu: `go version`, and the naive
 * multi-stage Dockerfile a benchmark compares goci with (the build stage itself runs emulated,
 * no --platform=$BUILDPLATFORM), timed against the same program cross-compiled natively.
 * The .debs come from Debian's mirror the first time, then from goci's cache.
 */
let daemon: DockerdHarness;
let work: string;
let context: string;

const HELLO_MAIN =
  'package main\n\nimport (\n\t"fmt"\n\t"runtime"\n)\n\nfunc main() { fmt.Println("hello from", runtime.GOOS, runtime.GOARCH) }\n';

before(async () => {
  [daemon, work] = await Promise.all([startDockerd(), temporaryDirectory('foreign-go-builder')]);
  context = join(work, 'hello');
  await mkdir(context, { recursive: true });
  await writeFile(join(context, 'go.mod'), 'module example.com/hello\n\ngo 1.19\n');
  await writeFile(join(context, 'main.go'), HELLO_MAIN);
});
after(async () => {
  await daemon?.stop();
  if (work) await removeDirectory(work);
});

function out(result: { stdout?: unknown; stderr?: unknown }): string {
  return `${String(result.stdout ?? '')}\n${String(result.stderr ?? '')}`;
}

/** How long BuildKit says the step whose line contains `text` took (`#9 DONE 81.2s` in --progress plain). */
function stepSeconds(log: string, text: string): number | undefined {
  const step = new RegExp(`^(#\\d+) \\[[^\\]]*\\] ${text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`, 'm').exec(log)?.[1];
  if (step === undefined) return undefined;
  const done = new RegExp(`^${step} DONE (\\d+(?:\\.\\d+)?)s$`, 'm').exec(log)?.[1];
  return done === undefined ? undefined : Number(done);
}

async function timedBuild(
  dockerfile: string,
  tag: string,
  platform: string,
): Promise<{ seconds: number; stepSeconds: number | undefined }> {
  await writeFile(join(context, 'Dockerfile'), dockerfile);
  const started = Date.now();
  const args = ['build', '--network', 'host', '--platform', platform, '--progress', 'plain', '-t', tag, context];
  const build = await docker(args, { env: { ...daemon.env, DOCKER_BUILDKIT: '1' } }, { timeoutMs: 1_200_000 });
  const seconds = (Date.now() - started) / 1000;
  assert.equal(build.exitCode, 0, out(build));
  return { seconds, stepSeconds: stepSeconds(String(build.stderr), 'RUN CGO_ENABLED=0') };
}

function layerSizes(image: ForeignGoBuilderImage): string {
  return image.layers
    .map((layer) => `${(layer.size / 1e6).toFixed(1)} MB gzip / ${(layer.uncompressedSize / 1e6).toFixed(1)} MB`)
    .join(' + ');
}

describe('resolveInside', () => {
  test('follows symlinks inside the package root, never out of it', async () => {
    const root = join(work, 'root');
    await mkdir(join(root, 'lib', 'aarch64-linux-gnu'), { recursive: true });
    await writeFile(join(root, 'lib', 'aarch64-linux-gnu', 'ld-linux-aarch64.so.1'), 'loader');
    await symlink('aarch64-linux-gnu/ld-linux-aarch64.so.1', join(root, 'lib', 'ld-linux-aarch64.so.1'));
    await symlink('/lib/aarch64-linux-gnu', join(root, 'lib64'));
    await symlink('../../../../etc/passwd', join(root, 'lib', 'escape'));
    assert.equal(
      await resolveInside(root, '/lib/ld-linux-aarch64.so.1'),
      '/lib/aarch64-linux-gnu/ld-linux-aarch64.so.1',
    );
    assert.equal(
      await resolveInside(root, '/lib64/ld-linux-aarch64.so.1'),
      '/lib/aarch64-linux-gnu/ld-linux-aarch64.so.1',
    );
    assert.equal(await resolveInside(root, '/lib/escape'), undefined, 'the host /etc/passwd is not inside the root');
    assert.equal(await resolveInside(root, '/lib/libnope.so.1'), undefined);
  });
});

describe('foreign-architecture Go builder images', () => {
  let arm64: ForeignGoBuilderImage;

  test('arm64: goci-go-builder:1.19-arm64 runs go version under qemu', async (t) => {
    const started = Date.now();
    arm64 = await foreignGoBuilderImage({ arch: 'arm64', withShell: false, layoutDir: join(work, 'layout-arm64') });
    t.diagnostic(
      `arm64 image made in ${((Date.now() - started) / 1000).toFixed(1)} s (downloads included when the cache was empty): ${layerSizes(arm64)}`,
    );
    assert.deepEqual(arm64.platform, { architecture: 'arm64', os: 'linux' });
    assert.equal(arm64.goVersion, 'go1.19.8');
    assert.equal(arm64.goDynamic, true);
    assert.equal(arm64.debianArch, 'arm64');
    assert.deepEqual(arm64.env, [
      'PATH=/usr/lib/go-1.19/bin:/usr/local/bin:/usr/bin:/bin',
      'GOROOT=/usr/lib/go-1.19',
      'GOCACHE=/root/.cache/go-build',
      'CGO_ENABLED=0',
    ]);

    await loadBuiltGoBuilder(daemon, work, arm64, '1.19-arm64');
    const inspect = await docker(
      [
        'image',
        'inspect',
        '--format',
        '{{.Os}}/{{.Architecture}} {{json .Config.WorkingDir}}',
        'goci-go-builder:1.19-arm64',
      ],
      daemon,
    );
    assert.equal(String(inspect.stdout).trim(), 'linux/arm64 "/src"');
    const runArm64 = ['run', '--rm', '--platform', 'linux/arm64', '--network', 'none', 'goci-go-builder:1.19-arm64'];
    const run = await docker([...runArm64, 'go', 'version'], daemon, { timeoutMs: 900_000 });
    assert.equal(run.exitCode, 0, out(run));
    assert.equal(String(run.stdout).trim(), 'go version go1.19.8 linux/arm64');
  });

  test("the toolchain layer holds arm64's generated sources, the same from golang-1.19-src as from this machine's /usr/share/go-1.19", async () => {
    const blob = join(arm64.layoutDir, 'blobs', 'sha256', arm64.layers[0]!.digest.slice('sha256:'.length));
    const zbootstrap = await execa('tar', ['-xzOf', blob, 'usr/share/go-1.19/src/internal/buildcfg/zbootstrap.go']);
    assert.match(zbootstrap.stdout, /defaultGO_LDSO = `\/lib\/ld-linux-aarch64\.so\.1`/);
    const fromDeb = await foreignGoBuilderImage({
      arch: 'arm64',
      withShell: false,
      share: null,
      layoutDir: join(work, 'layout-arm64-src-deb'),
    });
    assert.ok(
      fromDeb.debs.some((deb) => /golang-1\.19-src_[^_]+_all\.deb$/.test(deb)),
      fromDeb.debs.join(' '),
    );
    // (The history line names where the sources came from, so only the layers are equal.)
    assert.deepEqual(
      fromDeb.layers.map((layer) => layer.digest),
      arm64.layers.map((layer) => layer.digest),
    );
  });

  test('arm (v7): goci-go-builder:1.19-arm runs go version under qemu', async (t) => {
    const arm = await foreignGoBuilderImage({ arch: 'arm', withShell: false, layoutDir: join(work, 'layout-arm') });
    t.diagnostic(`arm/v7 image: ${layerSizes(arm)}`);
    assert.deepEqual(arm.platform, { architecture: 'arm', os: 'linux', variant: 'v7' });
    assert.equal(arm.debianArch, 'armhf');
    assert.equal(arm.env.at(-1), 'GOARM=7', "Debian's armhf go defaults to GOARM=6; the image is arm/v7");
    await loadBuiltGoBuilder(daemon, work, arm, '1.19-arm');
    const inspect = await docker(
      ['image', 'inspect', '--format', '{{.Os}}/{{.Architecture}}/{{.Variant}}', 'goci-go-builder:1.19-arm'],
      daemon,
    );
    assert.equal(String(inspect.stdout).trim(), 'linux/arm/v7');
    const runArm = ['run', '--rm', '--platform', 'linux/arm/v7', '--network', 'none', 'goci-go-builder:1.19-arm'];
    const run = await docker([...runArm, 'go', 'version'], daemon, { timeoutMs: 900_000 });
    assert.equal(run.exitCode, 0, out(run));
    assert.equal(String(run.stdout).trim(), 'go version go1.19.8 linux/arm');
    const goarm = await docker([...runArm, 'go', 'env', 'GOARCH', 'GOARM'], daemon, { timeoutMs: 900_000 });
    assert.equal(goarm.exitCode, 0, out(goarm));
    assert.equal(String(goarm.stdout).trim(), 'arm\n7');
  });

  test('arm64 with a shell: a naive emulated multi-stage docker build succeeds and its image runs; timed against a native cross-compile', async (t) => {
    const shell = await foreignGoBuilderImage({
      arch: 'arm64',
      withShell: true,
      layoutDir: join(work, 'layout-arm64-shell'),
    });
    assert.equal(
      shell.layers[0]!.digest,
      arm64.layers[0]!.digest,
      'the toolchain layer is shared with the plain image',
    );
    await loadBuiltGoBuilder(daemon, work, shell, '1.19-arm64-shell');

    const emulated = await timedBuild(
      [
        'FROM goci-go-builder:1.19-arm64-shell AS build',
        'WORKDIR /src',
        'COPY . .',
        'RUN CGO_ENABLED=0 go build -trimpath -o /out/hello .',
        'FROM scratch',
        'COPY --from=build /out/hello /hello',
        'ENTRYPOINT ["/hello"]',
        '',
      ].join('\n'),
      'hello-arm64:emulated',
      'linux/arm64',
    );
    const arch = await docker(
      ['image', 'inspect', '--format', '{{.Os}}/{{.Architecture}}', 'hello-arm64:emulated'],
      daemon,
    );
    assert.equal(String(arch.stdout).trim(), 'linux/arm64');
    const run = await docker(
      ['run', '--rm', '--platform', 'linux/arm64', '--network', 'none', 'hello-arm64:emulated'],
      daemon,
    );
    assert.equal(run.exitCode, 0, out(run));
    assert.equal(String(run.stdout).trim(), 'hello from linux arm64');

    // The same program, cold cache too, cross-compiled by the amd64 builder on the build platform.
    await loadGoBuilderImage(daemon, work, '1.19-shell', true);
    const native = await timedBuild(
      [
        'FROM --platform=$BUILDPLATFORM goci-go-builder:1.19-shell AS build',
        'WORKDIR /src',
        'COPY . .',
        'RUN CGO_ENABLED=0 GOOS=linux GOARCH=arm64 go build -trimpath -o /out/hello .',
        'FROM scratch',
        'COPY --from=build /out/hello /hello',
        'ENTRYPOINT ["/hello"]',
        '',
      ].join('\n'),
      'hello-arm64:cross',
      'linux/arm64',
    );
    const cross = await docker(
      ['run', '--rm', '--platform', 'linux/arm64', '--network', 'none', 'hello-arm64:cross'],
      daemon,
    );
    assert.equal(String(cross.stdout).trim(), 'hello from linux arm64', out(cross));

    const fmt = (value: number | undefined): string => (value === undefined ? '?' : `${value.toFixed(1)} s`);
    t.diagnostic(
      `emulated go build (cold cache): RUN step ${fmt(emulated.stepSeconds)}, whole docker build ${fmt(emulated.seconds)}`,
    );
    t.diagnostic(
      `native cross-compile (cold cache): RUN step ${fmt(native.stepSeconds)}, whole docker build ${fmt(native.seconds)}`,
    );
    assert.ok(
      emulated.stepSeconds !== undefined && native.stepSeconds !== undefined,
      "BuildKit printed both RUN steps' times",
    );
  });
});
