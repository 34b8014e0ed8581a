import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { execa } from 'execa';
import type { BinaryReport } from '../compiler/binary/types.js';
import { goci } from './support/goci.js';
import { rootfsListing, skopeoConfig, skopeoRaw, umociUnpack } from './support/oci.js';
import { exampleRepository, git, removeDirectory } from './support/workspace.js';
import { found } from '../common/found.js';

const PLATFORMS = 'linux/amd64,linux/arm64,linux/arm/v7';
const EPOCH = '1714564800';
const env = { ...process.env, SOURCE_DATE_EPOCH: EPOCH };

interface BuildJson {
  images: {
    repository: string;
    tags: string[];
    index: { digest: string };
    platforms: { platform: string; digest: string }[];
    ociLayout: string;
  }[];
}

let repoA: string;
let repoB: string;
let first: BuildJson;

async function build(dir: string, args: string[] = []): Promise<BuildJson> {
  const result = await goci(['build', '.', '--platform', PLATFORMS, '--version', '1.2.3', '--json', ...args], {
    cwd: dir,
    env,
  });
  assert.equal(result.exitCode, 0, result.stderr);
  return JSON.parse(result.stdout) as BuildJson;
}

async function manifestLayers(layout: string, digest: string): Promise<string[]> {
  const manifest = JSON.parse(await readFile(join(layout, 'blobs', 'sha256', digest.slice(7)), 'utf8')) as {
    layers: { digest: string }[];
  };
  return manifest.layers.map((layer) => layer.digest);
}

before(async () => {
  repoA = await exampleRepository('hello', 'build-a');
  repoB = await exampleRepository('hello', 'build-second-clone');
  first = await build(repoA);
});
after(async () => Promise.all([repoA, repoB].map(removeDirectory)));

describe('goci build examples/hello for three platforms', () => {
  test('the OCI layout tag is an index of exactly the three platforms', async () => {
    const index = await skopeoRaw(join(repoA, 'dist', 'oci'), '1.2.3');
    assert.equal(index.mediaType, 'application/vnd.oci.image.index.v1+json');
    assert.deepEqual(
      index.manifests.map((entry: { platform: unknown }) => entry.platform),
      [
        { architecture: 'amd64', os: 'linux' },
        { architecture: 'arm64', os: 'linux' },
        { architecture: 'arm', os: 'linux', variant: 'v7' },
      ],
    );
    assert.equal(
      `sha256:${(await execa('sha256sum', [join(repoA, 'dist', 'oci', 'blobs', 'sha256', first.images[0]!.index.digest.slice(7))])).stdout.slice(0, 64)}`,
      first.images[0]!.index.digest,
    );
  });

  test('oci-image-tool validates the layout', async () => {
    // This oci-image-tool predates nested indexes in index.json: it cannot tell apart several
    // index entries (the SBOM referrer indexes), so it checks a layout holding the image alone.
    const alone = join(repoA, 'dist', 'oci-alone');
    await build(repoA, ['--sbom', 'none', '--oci-layout', alone]);
    const result = await execa(
      'oci-image-tool',
      ['validate', '--type', 'image', '--ref', 'name=1.2.3', '--ref', 'platform.os=linux', alone],
      { reject: false },
    );
    assert.equal(result.exitCode, 0, result.stderr);
  });

  for (const platform of [{ arch: 'amd64' }, { arch: 'arm64' }, { arch: 'arm', variant: 'v7' }]) {
    test(`umoci unpacks ${platform.arch}${platform.variant ?? ''}: the static base plus the binary, with their owners and modes`, async () => {
      const rootfs = await umociUnpack(join(repoA, 'dist', 'oci'), '1.2.3', platform);
      const listing = await rootfsListing(rootfs);
      for (const line of [
        '-rwxr-xr-x 0:0 /usr/local/bin/hello',
        'drwx------ 65532:65532 /home/nonroot',
        'drwxrwxrwt 0:0 /tmp',
        'drwx------ 0:0 /root',
        '-rw-r--r-- 0:0 /etc/passwd',
        '-rw-r--r-- 0:0 /etc/ssl/certs/ca-certificates.crt',
      ]) {
        assert.ok(listing.includes(line), `missing: ${line}`);
      }
      const { stdout } = await execa(join(rootfs, 'usr', 'local', 'bin', 'hello'));
      assert.equal(stdout.split('\n')[0], `1.2.3 linux ${platform.arch}`);
      await removeDirectory(join(rootfs, '..', '..'));
    });
  }

  test("the config runs the binary as nonroot in /home/nonroot, with the base's env", async () => {
    const config = await skopeoConfig(join(repoA, 'dist', 'oci'), '1.2.3', { arch: 'arm64' });
    assert.deepEqual(
      {
        User: config.config.User,
        WorkingDir: config.config.WorkingDir,
        Entrypoint: config.config.Entrypoint,
        Env: config.config.Env,
      },
      {
        User: '65532',
        WorkingDir: '/home/nonroot',
        Entrypoint: ['/usr/local/bin/hello'],
        Env: [
          'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
          'SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt',
        ],
      },
    );
    assert.equal(config.created, '2024-05-01T12:00:00Z');
  });

  test('labels equal what goci inspect decodes from the binary inside', async () => {
    const config = await skopeoConfig(join(repoA, 'dist', 'oci'), '1.2.3', { arch: 'amd64' });
    const report = JSON.parse(
      (await goci(['inspect', '--json', join(repoA, 'dist', 'bin', 'hello-1.2.3-linux-amd64')])).stdout,
    ) as BinaryReport;
    const revision = found(
      report.buildInfo!.settings.find((setting) => setting.key === 'vcs.revision'),
      'the vcs.revision build setting',
    ).value;
    assert.equal(revision, await git(repoA, 'rev-parse', 'HEAD'));
    assert.deepEqual(config.config.Labels, {
      'dev.goci.go.module': report.buildInfo!.main!.path,
      'dev.goci.go.version': report.buildInfo!.goVersion,
      'org.opencontainers.image.created': '2024-05-01T12:00:00Z',
      'org.opencontainers.image.revision': revision,
      'org.opencontainers.image.title': 'hello',
      'org.opencontainers.image.version': '1.2.3',
    });
  });

  test('the index and each manifest carry the same metadata as annotations', async () => {
    const index = await skopeoRaw(join(repoA, 'dist', 'oci'), '1.2.3');
    const config = await skopeoConfig(join(repoA, 'dist', 'oci'), '1.2.3', { arch: 'amd64' });
    assert.deepEqual(index.annotations, config.config.Labels);
  });
});

describe('reproducible images', () => {
  test('another clone at another path with the same SOURCE_DATE_EPOCH gives the same index digest', async () => {
    // --no-cache: go build really runs for the second clone instead of goci reusing the first's binaries.
    const second = await build(repoB, ['--no-cache']);
    assert.equal(second.images[0]!.index.digest, first.images[0]!.index.digest);
  });

  test('changing one Go line changes only the binary layer and the documents above it', async () => {
    const main = join(repoB, 'main.go');
    await writeFile(main, (await readFile(main, 'utf8')).replace('"%s %s %s\\n"', '"%s %s %s \\n"'));
    await git(repoB, 'commit', '-qam', 'one line');
    const changed = await build(repoB);
    const layout = join(repoB, 'dist', 'oci');
    for (let index = 0; index < 3; index++) {
      const before = await manifestLayers(join(repoA, 'dist', 'oci'), first.images[0]!.platforms[index]!.digest);
      const after = await manifestLayers(layout, changed.images[0]!.platforms[index]!.digest);
      assert.equal(after[0], before[0], 'the base layer is unchanged');
      assert.notEqual(after[1], before[1], 'the binary layer changed');
      assert.notEqual(changed.images[0]!.platforms[index]!.digest, first.images[0]!.platforms[index]!.digest);
    }
    assert.notEqual(changed.images[0]!.index.digest, first.images[0]!.index.digest);
  });
});
