import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { docker, startDockerd, type DockerdHarness } from './support/dockerd.js';
import { layerListing } from './support/image-listing.js';
import { goci, lastLine } from './support/goci.js';
import { exampleRepository, listFiles, removeDirectory, repositoryWith } from './support/workspace.js';

const PLATFORMS = 'linux/amd64,linux/arm64,linux/arm/v7';
let daemon: DockerdHarness;
let repo: string;

before(async () => {
  [daemon, repo] = await Promise.all([startDockerd(), exampleRepository('hello', 'build-docker')]);
});
after(async () => {
  await daemon?.stop();
  await removeDirectory(repo);
});

async function build(
  args: string[],
  env: NodeJS.ProcessEnv = daemon.env,
): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  return goci(['build', '.', '--platform', PLATFORMS, '--version', '1.2.3', ...args], { cwd: repo, env });
}

describe('goci build into Docker', () => {
  for (const [platform, expected] of [
    ['linux/amd64', '1.2.3 linux amd64'],
    ['linux/arm64', '1.2.3 linux arm64'],
    ['linux/arm/v7', '1.2.3 linux arm'],
  ] as const) {
    test(`--tarball for ${platform} loads with docker load and docker run prints "${expected}"`, async () => {
      const tarball = join(repo, 'dist', `hello-${platform.replaceAll('/', '-')}.tar`);
      const result = await build([
        '--tarball',
        tarball,
        '--load-platform',
        platform,
        '--tag',
        `t-${platform.split('/').slice(1).join('')}`,
      ]);
      assert.equal(result.exitCode, 0, result.stderr);
      const loaded = await docker(['load', '-i', tarball], daemon);
      assert.equal(loaded.exitCode, 0, String(loaded.stderr));
      const run = await docker(
        ['run', '--rm', '--network', 'none', `hello:t-${platform.split('/').slice(1).join('')}`],
        daemon,
      );
      assert.equal(run.exitCode, 0, String(run.stderr));
      assert.equal(String(run.stdout).split('\n')[0], expected);
    });
  }

  test('--load puts the image into the daemon through dockerode, labels included', async () => {
    const result = await build(['--load', '--tag', 'loaded', '--json']);
    assert.equal(result.exitCode, 0, result.stderr);
    const image = (JSON.parse(result.stdout) as { images: { loaded: { tags: string[] } }[] }).images[0]!;
    assert.deepEqual(image.loaded.tags, ['hello:loaded']);
    const inspect = await docker(['image', 'inspect', '--format', '{{json .Config.Labels}}', 'hello:loaded'], daemon);
    const labels = JSON.parse(String(inspect.stdout)) as Record<string, string>;
    assert.equal(labels['org.opencontainers.image.version'], '1.2.3');
    assert.equal(labels['org.opencontainers.image.title'], 'hello');
    assert.equal(labels['dev.goci.go.version'], 'go1.19.8');
  });

  test('--load gives the image every tag, not only the first', async () => {
    const result = await build(['--load', '--tag', 'first', '--tag', 'second', '--json']);
    assert.equal(result.exitCode, 0, result.stderr);
    const image = (JSON.parse(result.stdout) as { images: { loaded: { tags: string[]; imageId: string } }[] })
      .images[0]!;
    assert.deepEqual(image.loaded.tags, ['hello:first', 'hello:second']);
    for (const name of image.loaded.tags) {
      const inspected = await docker(['image', 'inspect', '--format', '{{.Id}}', name], daemon);
      assert.equal(String(inspected.stdout).trim(), image.loaded.imageId);
    }
  });

  test('--format docker writes Docker schema 2 documents, and the tarball loads and runs', async () => {
    const tarball = join(repo, 'dist', 'hello-docker-format.tar');
    const result = await build([
      '--format',
      'docker',
      '--tarball',
      tarball,
      '--tag',
      'schema2',
      '--oci-layout',
      join(repo, 'dist', 'oci-docker'),
      '--json',
    ]);
    assert.equal(result.exitCode, 0, result.stderr);
    const { index, platforms } = (
      JSON.parse(result.stdout) as { images: { index: { digest: string }; platforms: { digest: string }[] }[] }
    ).images[0]!;
    const blob = async (digest: string): Promise<Record<string, any>> =>
      JSON.parse(
        await readFile(join(repo, 'dist', 'oci-docker', 'blobs', 'sha256', digest.slice(7)), 'utf8'),
      ) as Record<string, any>;
    assert.equal((await blob(index.digest)).mediaType, 'application/vnd.docker.distribution.manifest.list.v2+json');
    const manifest = await blob(platforms[0]!.digest);
    assert.deepEqual(
      [manifest.mediaType, manifest.config.mediaType, manifest.layers[0].mediaType],
      [
        'application/vnd.docker.distribution.manifest.v2+json',
        'application/vnd.docker.container.image.v1+json',
        'application/vnd.docker.image.rootfs.diff.tar.gzip',
      ],
    );
    assert.equal((await docker(['load', '-i', tarball], daemon)).exitCode, 0);
    const run = await docker(['run', '--rm', '--network', 'none', 'hello:schema2'], daemon);
    assert.equal(String(run.stdout).split('\n')[0], '1.2.3 linux amd64');
  });

  test('--load with no daemon reachable fails at once, before compiling, and writes nothing', async () => {
    const nowhere = join(repo, 'nowhere.sock');
    const dist = join(repo, 'dist-nowhere');
    const result = await goci(['build', '.', '--platform', 'linux/amd64', '--load', '--dist', dist], {
      cwd: repo,
      env: { ...process.env, DOCKER_HOST: `unix://${nowhere}` },
    });
    assert.equal(result.exitCode, 1);
    assert.equal(
      lastLine(result.stderr),
      `goci: cannot reach the Docker daemon at unix://${nowhere} (no such socket) (start dockerd, or set DOCKER_HOST=unix:///path/to/docker.sock to point at a running one)`,
    );
    assert.deepEqual(await listFiles(dist), []);
  });

  test('a volume on the non-root base is a directory its user owns: a server writes its state there', async () => {
    const program = [
      '// Command state writes a file where a server keeps its state and reads it back.',
      'package main',
      '',
      'import (',
      '\t"fmt"',
      '\t"os"',
      ')',
      '',
      'func main() {',
      '\tif err := os.WriteFile("/var/lib/state/ok", []byte("ok"), 0o600); err != nil {',
      '\t\tfmt.Println(err)',
      '\t\tos.Exit(1)',
      '\t}',
      '\tfmt.Println("wrote as uid", os.Getuid())',
      '}',
      '',
    ].join('\n');
    const spec =
      'builds: [{binary: state}]\nimage:\n  volumes: [/var/lib/state]\n  directories: [{dst: /var/cache/state, mode: 0700}]\n';
    const state = await repositoryWith(
      { 'go.mod': 'module example.com/state\n\ngo 1.19\n', 'main.go': program, 'goci.yaml': spec },
      'build-docker-state',
    );
    try {
      const args = ['build', '.', '--platform', 'linux/amd64', '--version', '1.0.0', '--load', '--tag', 'v1', '--json'];
      const result = await goci(args, { cwd: state, env: daemon.env });
      assert.equal(result.exitCode, 0, result.stderr);
      const inspected = await docker(['image', 'inspect', '--format', '{{json .Config.Volumes}}', 'state:v1'], daemon);
      assert.equal(String(inspected.stdout).trim(), '{"/var/lib/state":{}}');
      const run = await docker(['run', '--rm', '--network', 'none', 'state:v1'], daemon);
      assert.equal(run.exitCode, 0, String(run.stdout) + String(run.stderr));
      assert.equal(String(run.stdout).trim(), 'wrote as uid 65532');
      // The directories as the layer holds them: the volume the user's, 0755; the listed one as written.
      const built = JSON.parse(result.stdout).images[0] as { ociLayout: string; platforms: { digest: string }[] };
      const blob = (digest: string) => readFile(join(built.ociLayout, 'blobs', digest.replace(':', '/')));
      const manifest = JSON.parse(String(await blob(built.platforms[0]!.digest))) as { layers: { digest: string }[] };
      const entries = (await Promise.all(manifest.layers.map(async (layer) => layerListing(await blob(layer.digest)))))
        .flat()
        .filter((entry) => /^\/?var\/(lib|cache)\/state\/?$/.test(entry.path))
        .map((entry) => [entry.path.replace(/^\/|\/$/g, ''), entry.type, entry.mode, entry.uid, entry.gid]);
      assert.deepEqual(entries, [
        ['var/cache/state', 'directory', '700', 65532, 65532],
        ['var/lib/state', 'directory', '755', 65532, 65532],
      ]);
    } finally {
      await removeDirectory(state);
    }
  });
});
