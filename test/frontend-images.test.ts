import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { goBuilderImage, type GoBuilderImage } from '../images/go-builder-image.js';
import { executableClosure, hostFileEntries, parseLdd } from '../images/host-files.js';
import { docker, startDockerd, type DockerdHarness } from './support/dockerd.js';
import { loadBuiltGoBuilder } from './support/frontend-images.js';
import { REPO_ROOT, goci } from './support/goci.js';
import { startRegistry, type RegistryHarness } from './support/registry.js';
import { removeDirectory, temporaryDirectory } from './support/workspace.js';

/**
 * The two images goci makes from this machine's files (no Docker involved in making them),
 * checked in a real dockerd 20.10: the Go builder image (go version; a cross-compiling
 * multi-stage `docker build` with BuildKit) and the BuildKit frontend image (node starts, the
 * bundle runs, the network.none label is there), both byte-reproducible.
 */
let daemon: DockerdHarness;
let registry: RegistryHarness;
let work: string;

before(async () => {
  [daemon, registry, work] = await Promise.all([
    startDockerd(),
    startRegistry(),
    temporaryDirectory('frontend-images'),
  ]);
});
after(async () => {
  await Promise.all([daemon?.stop(), registry?.stop()]);
  if (work) await removeDirectory(work);
});

function out(result: { stdout?: unknown; stderr?: unknown }): string {
  return `${String(result.stdout ?? '')}\n${String(result.stderr ?? '')}`;
}

describe('host files', () => {
  test('parseLdd keeps the loader and libraries, skips the vDSO, and names what is missing', () => {
    const text =
      '\tlinux-vdso.so.1 (0x00007ffd)\n\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f19)\n\t/lib64/ld-linux-x86-64.so.2 (0x00007f19)\n';
    assert.deepEqual(parseLdd(text, 'go'), [
      { name: 'libc.so.6', path: '/lib/x86_64-linux-gnu/libc.so.6' },
      { name: '/lib64/ld-linux-x86-64.so.2', path: '/lib64/ld-linux-x86-64.so.2' },
    ]);
    assert.throws(() => parseLdd('\tlibnope.so.1 => not found\n', 'prog'), /prog needs libnope\.so\.1/);
  });

  test("executableClosure puts the dereferenced loader at PT_INTERP's path and each library where ldd finds it", async () => {
    const closure = await executableClosure('/usr/lib/go-1.19/bin/go');
    assert.equal(closure.dynamic, true);
    const byPath = new Map(closure.entries.map((entry) => [entry.path, entry]));
    const loader = byPath.get(closure.interpreter!);
    assert.equal(loader?.type, 'file', 'the loader is a regular file, not the host symlink chain');
    assert.ok(
      closure.libraries.some((path) => path.endsWith('/libc.so.6')),
      closure.libraries.join(' '),
    );
    const gofmt = await executableClosure('/usr/lib/go-1.19/bin/gofmt');
    assert.deepEqual([gofmt.dynamic, gofmt.entries.length], [false, 1]);
  });

  test('hostFileEntries keeps symlinks inside a copied tree and follows a given symlink', async () => {
    const tree = await hostFileEntries(['/usr/lib/go-1.19'], {
      exclude: (path) => path.includes('/pkg/') || path.endsWith('/bin'),
    });
    const src = tree.find((entry) => entry.path === '/usr/lib/go-1.19/src');
    assert.deepEqual(src && src.type === 'symlink' ? src.target : src, '../../share/go-1.19/src');
    const [sh] = await hostFileEntries(['/bin/sh']);
    assert.equal(sh?.type, 'file');
  });
});

describe('the Go builder image', () => {
  let plain: GoBuilderImage;
  let shell: GoBuilderImage;

  test('is byte-reproducible and small: two builds give one digest', async () => {
    const [first, second] = await Promise.all([
      goBuilderImage({ withShell: false, layoutDir: join(work, 'go-builder-a') }),
      goBuilderImage({ withShell: false, layoutDir: join(work, 'go-builder-b') }),
    ]);
    assert.equal(first.index.digest, second.index.digest);
    assert.equal(first.goVersion, 'go1.19.8');
    plain = first;
    shell = await goBuilderImage({ withShell: true, layoutDir: join(work, 'go-builder-shell') });
    // The toolchain layer comes first and is the same in both variants.
    assert.equal(shell.layers[0]!.digest, plain.layers[0]!.digest);
    const uncompressed = plain.layers.reduce((sum, layer) => sum + layer.uncompressedSize, 0);
    assert.ok(uncompressed < 130e6, `the toolchain is ${uncompressed} bytes uncompressed`);
  });

  test('runs go version with --network none', async () => {
    await loadBuiltGoBuilder(daemon, work, plain, 'plain');
    const run = await docker(['run', '--rm', '--network', 'none', 'goci-go-builder:plain', 'go', 'version'], daemon);
    assert.equal(run.exitCode, 0, out(run));
    assert.equal(String(run.stdout).trim(), 'go version go1.19.8 linux/amd64');
    const inspect = await docker(['image', 'inspect', '--format', '{{json .Config}}', 'goci-go-builder:plain'], daemon);
    const config = JSON.parse(String(inspect.stdout)) as { Env: string[]; WorkingDir: string };
    assert.deepEqual(config.Env, [
      'PATH=/usr/lib/go-1.19/bin:/usr/local/bin:/usr/bin:/bin',
      'GOROOT=/usr/lib/go-1.19',
      'GOCACHE=/root/.cache/go-build',
      'CGO_ENABLED=0',
    ]);
    assert.equal(config.WorkingDir, '/src');
  });

  test('with a shell, a cross-compiling multi-stage docker build makes an arm64 image that runs under qemu', async () => {
    await loadBuiltGoBuilder(daemon, work, shell, 'shell');
    const context = join(work, 'hello-context');
    await mkdir(context, { recursive: true });
    await writeFile(join(context, 'go.mod'), 'module example.com/hello\n\ngo 1.19\n');
    await writeFile(
      join(context, 'main.go'),
      'package main\n\nimport (\n\t"fmt"\n\t"runtime"\n)\n\nfunc main() { fmt.Println("hello from", runtime.GOOS, runtime.GOARCH) }\n',
    );
    await writeFile(
      join(context, 'Dockerfile'),
      [
        'FROM --platform=$BUILDPLATFORM goci-go-builder:shell AS build',
        'COPY go.mod main.go ./',
        'RUN CGO_ENABLED=0 GOOS=linux GOARCH=arm64 go build -trimpath -o /out/hello .',
        'FROM scratch',
        'COPY --from=build /out/hello /hello',
        'ENTRYPOINT ["/hello"]',
        '',
      ].join('\n'),
    );
    const env = { env: { ...daemon.env, DOCKER_BUILDKIT: '1' } };
    const args = ['build', '--network', 'host', '--platform', 'linux/arm64', '--progress', 'plain'];
    const build = await docker([...args, '-t', 'hello-arm64:docker', context], env, { timeoutMs: 1_200_000 });
    assert.equal(build.exitCode, 0, out(build));
    const arch = await docker(
      ['image', 'inspect', '--format', '{{.Os}}/{{.Architecture}}', 'hello-arm64:docker'],
      daemon,
    );
    assert.equal(String(arch.stdout).trim(), 'linux/arm64');
    const run = await docker(['run', '--rm', '--network', 'none', 'hello-arm64:docker'], daemon);
    assert.equal(run.exitCode, 0, out(run));
    assert.equal(String(run.stdout).trim(), 'hello from linux arm64');
  });
});

describe('the frontend image', () => {
  test('goci frontend-image --base host is byte-reproducible, starts node and carries network.none', async () => {
    const tarballs = [join(work, 'frontend-1.tar'), join(work, 'frontend-2.tar')];
    const results = [];
    for (const tarball of tarballs) {
      const result = await goci(['frontend-image', '--base', 'host', '--tarball', tarball, '--tag', 'test', '--json'], {
        env: daemon.env,
      });
      assert.equal(result.exitCode, 0, result.stderr);
      results.push(JSON.parse(result.stdout) as { index: { digest: string }; entrypoint: string[] });
    }
    assert.equal(results[0]!.index.digest, results[1]!.index.digest);
    assert.deepEqual(await readFile(tarballs[0]!), await readFile(tarballs[1]!));
    assert.deepEqual(results[0]!.entrypoint, ['/usr/bin/node', '/goci/goci.cjs', 'frontend']);

    const loaded = await docker(['load', '-i', tarballs[0]!], daemon);
    assert.equal(loaded.exitCode, 0, out(loaded));
    const version = await docker(
      ['run', '--rm', '--network', 'none', '--entrypoint', '/usr/bin/node', 'goci-frontend:test', '--version'],
      daemon,
    );
    assert.equal(version.exitCode, 0, out(version));
    assert.equal(String(version.stdout).trim(), process.version);
    const empty = await docker(
      ['run', '--rm', '--network', 'none', '--entrypoint', '/usr/bin/node', 'goci-frontend:test', '-e', '0'],
      daemon,
    );
    assert.equal(empty.exitCode, 0, out(empty));
    const bundle = await docker(
      [
        'run',
        '--rm',
        '--network',
        'none',
        '--entrypoint',
        '/usr/bin/node',
        'goci-frontend:test',
        '/goci/goci.cjs',
        '--version',
      ],
      daemon,
    );
    assert.equal(bundle.exitCode, 0, out(bundle));
    assert.equal(String(bundle.stdout).trim(), '0.1.0');

    const inspect = await docker(['image', 'inspect', '--format', '{{json .Config}}', 'goci-frontend:test'], daemon);
    const config = JSON.parse(String(inspect.stdout)) as {
      Labels: Record<string, string>;
      Entrypoint: string[];
      Cmd: string[] | null;
    };
    assert.equal(config.Labels['moby.buildkit.frontend.network.none'], 'true');
    assert.equal(config.Labels['moby.buildkit.frontend.caps'], undefined);
    assert.deepEqual(config.Entrypoint, ['/usr/bin/node', '/goci/goci.cjs', 'frontend']);
    assert.equal(config.Cmd, null);
  });

  test('--base REF puts only /goci on top of a registry image and runs node from its PATH', async () => {
    // The host image has node on its PATH, so it serves as the registry base here (no internet for node:20-slim).
    const pushed = await goci(
      ['frontend-image', '--base', 'host', '--push', `${registry.host}/node-base`, '--tag', '1'],
      { env: daemon.env },
    );
    assert.equal(pushed.exitCode, 0, pushed.stderr);
    const tarball = join(work, 'frontend-remote.tar');
    const result = await goci(
      ['frontend-image', '--base', `${registry.host}/node-base:1`, '--tarball', tarball, '--tag', 'remote', '--json'],
      { env: daemon.env },
    );
    assert.equal(result.exitCode, 0, result.stderr);
    assert.deepEqual((JSON.parse(result.stdout) as { entrypoint: string[] }).entrypoint, [
      'node',
      '/goci/goci.cjs',
      'frontend',
    ]);
    const loaded = await docker(['load', '-i', tarball], daemon);
    assert.equal(loaded.exitCode, 0, out(loaded));
    const inspect = await docker(
      ['image', 'inspect', '--format', '{{json .Config.Labels}} {{len .RootFS.Layers}}', 'goci-frontend:remote'],
      daemon,
    );
    const [labels, layers] = String(inspect.stdout).trim().split(' ');
    assert.equal((JSON.parse(labels!) as Record<string, string>)['moby.buildkit.frontend.network.none'], 'true');
    assert.equal(layers, '3', "the base's two layers and /goci");
    const run = await docker(
      [
        'run',
        '--rm',
        '--network',
        'none',
        '--entrypoint',
        'node',
        'goci-frontend:remote',
        '/goci/goci.cjs',
        '--version',
      ],
      daemon,
    );
    assert.equal(run.exitCode, 0, out(run));
    assert.equal(String(run.stdout).trim(), '0.1.0');
  });

  test('a built-in base is refused: it has no node', async () => {
    const result = await goci(['frontend-image', '--base', 'static', '--tarball', join(work, 'never.tar')], {
      env: daemon.env,
    });
    assert.equal(result.exitCode, 2, result.stderr);
    assert.match(result.stderr, /built-in bases have no node/);
  });

  test("Dockerfile.frontend's build stage copies every source folder tsconfig.json compiles, and scripts/", async () => {
    const text = await readFile(join(REPO_ROOT, 'Dockerfile.frontend'), 'utf8');
    const tsconfig = JSON.parse(await readFile(join(REPO_ROOT, 'tsconfig.json'), 'utf8')) as { include: string[] };
    const folders = [...tsconfig.include.map((pattern) => pattern.split('/')[0]), 'scripts'].sort();
    const copied = [...text.matchAll(/^COPY (\w+)\/ \1\/$/gm)].map((match) => match[1]).sort();
    assert.deepEqual(copied, folders);
  });

  test('Dockerfile.frontend (not built here: no internet for node:20) has the stages, label and entrypoint', async () => {
    const text = await readFile(join(REPO_ROOT, 'Dockerfile.frontend'), 'utf8');
    const instructions = text
      .split('\n')
      .filter((line) => line.trim() !== '' && !line.trimStart().startsWith('#'))
      .map((line) => line.trim());
    const known = new Set(['FROM', 'WORKDIR', 'COPY', 'RUN', 'LABEL', 'ENTRYPOINT', 'ENV', 'ARG', 'USER']);
    for (const line of instructions) assert.ok(known.has(line.split(/\s+/)[0]!), `unexpected Dockerfile line: ${line}`);
    assert.deepEqual(
      instructions.filter((line) => line.startsWith('FROM ')),
      ['FROM node:20 AS build', 'FROM node:20-slim'],
    );
    assert.ok(instructions.includes('RUN npm run build'));
    assert.ok(instructions.includes('COPY --from=build /src/lib/goci.cjs /goci/goci.cjs'));
    assert.ok(instructions.includes('COPY --from=build /src/lib/cli.cjs /goci/cli.cjs'));
    assert.ok(instructions.includes('COPY --from=build /src/package.json /goci/package.json'));
    assert.ok(instructions.includes('COPY --from=build /src/images/base/data/ /goci/images/base/data/'));
    assert.ok(instructions.includes('RUN node scripts/static-base-tree.mjs /src/static-base'));
    assert.ok(instructions.includes('COPY --from=build /src/static-base/ /goci/base/static/'));
    assert.ok(instructions.includes('LABEL moby.buildkit.frontend.network.none=true'));
    assert.equal(instructions.at(-1), 'ENTRYPOINT ["node", "/goci/goci.cjs", "frontend"]');
    const entrypoint = JSON.parse(instructions.at(-1)!.slice('ENTRYPOINT '.length)) as string[];
    assert.deepEqual(entrypoint, ['node', '/goci/goci.cjs', 'frontend']);
  });
});
