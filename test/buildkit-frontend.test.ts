import assert from 'node:assert/strict';
import { cp, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { execa } from 'execa';
import { goBuilderImage } from './support/go-builder-image.js';
import { tagInLayout } from '../oci/layout.js';
import {
  buildctl,
  buildkitBinaries,
  buildkitSkipReason,
  startBuildkitd,
  type BuildkitdHarness,
} from './support/buildkitd.js';
import { REPO_ROOT, goci } from './support/goci.js';
import { assertSameImages, registryImages } from './support/image-listing.js';
import { layerHeaders } from './support/layer-entries.js';
import { parityFixture } from './support/parity-fixture.js';
import { startRegistry, type RegistryHarness } from './support/registry.js';
import { removeDirectory, temporaryDirectory } from './support/workspace.js';

/**
 * goci's frontend on a standalone BuildKit v0.11.6 (buildctl build --frontend gateway.v0), which,
 * unlike Docker 20.10's BuildKit v0.8, exports several platforms as one index. BuildKit is built
 * from source by scripts/buildkit.sh (GOCI_BUILDKIT_SRC) or given built (GOCI_BUILDKIT_BIN);
 * without either the file is skipped with one line saying how to run it (npm run e2e:buildkit).
 */
const EPOCH = '1714564800';
const skip = buildkitSkipReason();
let registry: RegistryHarness;
let buildkitd: BuildkitdHarness;
let work: string;
let frontendRef: string;
let goImageRef: string;

/** A copy of examples/server (not a git checkout: the frontend cannot read .git anyway). */
async function serverExample(as: string): Promise<string> {
  const dir = join(work, as);
  await cp(join(REPO_ROOT, 'examples', 'server'), dir, { recursive: true });
  return dir;
}

/** buildctl build of `dir`'s goci.yaml through goci's frontend image, pushed to the loopback registry as `name`. */
async function frontendBuild(
  dir: string,
  platforms: string,
  name: string,
): Promise<{ exitCode: number; output: string }> {
  const args = [
    'build',
    '--progress',
    'plain',
    '--frontend',
    'gateway.v0',
    '--opt',
    `source=${frontendRef}`,
    '--local',
    `context=${dir}`,
    '--local',
    `dockerfile=${dir}`,
    '--opt',
    'filename=goci.yaml',
    '--opt',
    `platform=${platforms}`,
    '--opt',
    `build-arg:GO_IMAGE=${goImageRef}`,
    '--opt',
    'build-arg:VERSION=1.2.3',
    '--opt',
    `build-arg:SOURCE_DATE_EPOCH=${EPOCH}`,
    '--output',
    `type=image,name=${name},push=true,registry.insecure=true`,
  ];
  const result = await buildctl(buildkitd, args, { timeoutMs: 1_200_000 });
  return { exitCode: result.exitCode, output: `${result.stdout}\n${result.stderr}` };
}

async function skopeo(args: string[]): Promise<Record<string, any>> {
  const { stdout } = await execa('skopeo', ['inspect', '--tls-verify=false', ...args]);
  return JSON.parse(stdout) as Record<string, any>;
}

/** `os/arch[/variant]` of each image manifest of a pushed index (attestation manifests left out). */
function indexPlatforms(index: Record<string, any>): string[] {
  const manifests = (index.manifests ?? []) as Record<string, any>[];
  return manifests
    .filter((entry) => entry.annotations?.['vnd.docker.reference.type'] !== 'attestation-manifest')
    .map((entry) => {
      const platform = entry.platform ?? {};
      return [platform.os, platform.architecture, platform.variant].filter(Boolean).join('/');
    })
    .sort();
}

before(async () => {
  if (skip !== undefined) return;
  work = await temporaryDirectory('buildkit-frontend');
  const bin = await buildkitBinaries();
  assert.ok(bin, 'GOCI_BUILDKIT_SRC or GOCI_BUILDKIT_BIN is set, so the binaries resolve');
  registry = await startRegistry();
  buildkitd = await startBuildkitd(bin, { insecureRegistries: [registry.host] });
  frontendRef = `${registry.host}/goci/frontend:0.1`;
  goImageRef = `${registry.host}/goci-go-builder:1.19`;
  const frontendRepository = `${registry.host}/goci/frontend`;
  const pushFrontend = goci(['frontend-image', '--base', 'host', '--push', frontendRepository, '--tag', '0.1']);
  const pushGoBuilder = (async () => {
    const layout = join(work, 'go-builder');
    const image = await goBuilderImage({ withShell: false, layoutDir: layout });
    await tagInLayout(layout, image.indexDescriptor, '1.19');
    return goci(['push', `oci:${layout}:1.19`, goImageRef]);
  })();
  for (const pushed of await Promise.all([pushFrontend, pushGoBuilder])) {
    assert.equal(pushed.exitCode, 0, pushed.stderr);
  }
});
after(async () => {
  await buildkitd?.stop();
  await registry?.stop();
  if (work !== undefined) await removeDirectory(work);
});

describe('buildctl build --frontend gateway.v0 on a standalone BuildKit v0.11.6', () => {
  test('examples/server for linux/arm64 is pushed with its architecture and version label', { skip }, async () => {
    const dir = await serverExample('one');
    const name = `${registry.host}/server:one`;
    const built = await frontendBuild(dir, 'linux/arm64', name);
    assert.equal(built.exitCode, 0, built.output);
    const config = await skopeo(['--config', `docker://${name}`]);
    assert.equal(config.os, 'linux');
    assert.equal(config.architecture, 'arm64');
    assert.equal(config.config.Labels['org.opencontainers.image.version'], '1.2.3');
    assert.deepEqual(config.config.Entrypoint, ['/usr/local/bin/server']);
  });

  test('examples/server for linux/amd64, linux/arm64 and linux/arm/v7 is pushed as one index of the 3 platforms', {
    skip,
  }, async () => {
    const dir = await serverExample('three');
    const name = `${registry.host}/server:three`;
    // BuildKit writes its frontends' stderr (goci's steps) to its own log.
    const logPath = join(buildkitd.root, 'buildkitd.log');
    const logStart = (await readFile(logPath)).length;
    const built = await frontendBuild(dir, 'linux/amd64,linux/arm64,linux/arm/v7', name);
    const frontendLog = (await readFile(logPath)).subarray(logStart).toString('utf8');
    assert.equal(built.exitCode, 0, built.output.trimEnd().split('\n').slice(-8).join('\n'));
    const index = await skopeo(['--raw', `docker://${name}`]);
    assert.deepEqual(indexPlatforms(index), ['linux/amd64', 'linux/arm/v7', 'linux/arm64']);
    for (const [arch, variant] of [['amd64'], ['arm64'], ['arm', 'v7']] as const) {
      const override = ['--override-os', 'linux', '--override-arch', arch];
      if (variant) override.push('--override-variant', variant);
      const config = await skopeo(['--config', ...override, `docker://${name}`]);
      assert.equal(config.architecture, arch);
      assert.equal(config.variant, variant);
      assert.equal(config.config.Labels['org.opencontainers.image.version'], '1.2.3');
    }
    // The frontend issues every platform's solve before any of them completes.
    const lines = frontendLog.split('\n');
    const sent = ['linux/amd64', 'linux/arm64', 'linux/arm/v7'].map((platform) =>
      lines.findIndex((line) => line.includes(`goci frontend: building server for ${platform}`)),
    );
    const firstRead = lines.findIndex((line) => line.includes('goci frontend: reading server for '));
    assert.ok(
      sent.every((index) => index >= 0 && index < firstRead),
      `every solve is sent before the first is read back:\n${lines.filter((line) => line.includes('goci frontend:')).join('\n')}`,
    );
    // The static base arrives whole: symlinks stay symlinks, modes kept (copied from the frontend image).
    const layout = join(work, 'three-layout');
    await execa('skopeo', ['copy', '--all', '--src-tls-verify=false', `docker://${name}`, `oci:${layout}:three`]);
    const headers = await layerHeaders(layout, 'three', 'arm64');
    const entry = (path: string) =>
      headers.find((header) => header.name.replace(/^\.?\//, '').replace(/\/$/, '') === path);
    assert.deepEqual(
      { type: entry('etc/os-release')?.type, linkname: entry('etc/os-release')?.linkname },
      { type: 'symlink', linkname: '../usr/lib/os-release' },
    );
    assert.equal(entry('home/nonroot')?.mode, 0o700);
    assert.equal(entry('tmp')?.mode, 0o1777);
    assert.equal(entry('usr/local/bin/server')?.mode, 0o755);
    assert.equal(entry('etc/ssl/certs/ca-certificates.crt')?.type, 'file');
  });

  test('examples/server with two binaries and image.files for 3 platforms: the same image as goci build --push', {
    skip,
  }, async () => {
    const platforms = ['linux/amd64', 'linux/arm64', 'linux/arm/v7'];
    const cliDir = await parityFixture(join(work, 'parity-cli'), platforms);
    const frontendDir = await parityFixture(join(work, 'parity-frontend'), platforms);
    const cliRef = `${registry.host}/parity:cli`;
    const cli = await goci(
      ['build', '.', '--push', cliRef, '--buildvcs', 'false', '--version', '1.2.3', '--sbom', 'none'],
      { cwd: cliDir, env: { ...process.env, SOURCE_DATE_EPOCH: EPOCH } },
    );
    assert.equal(cli.exitCode, 0, cli.stderr);
    const frontendRef = `${registry.host}/parity:frontend`;
    const built = await frontendBuild(frontendDir, platforms.join(','), frontendRef);
    assert.equal(built.exitCode, 0, built.output.trimEnd().split('\n').slice(-8).join('\n'));
    const fromCli = await registryImages(cliRef, join(work, 'parity-cli-layout'));
    const fromFrontend = await registryImages(frontendRef, join(work, 'parity-frontend-layout'));
    assert.deepEqual(
      fromCli.map((image) => [image.platform, image.layers.length]),
      [
        ['linux/amd64', 3],
        ['linux/arm/v7', 3],
        ['linux/arm64', 3],
      ],
    );
    assertSameImages(assert.deepEqual, fromFrontend, fromCli);
  });
});
