import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { docker, startDockerd, type DockerdHarness } from './support/dockerd.js';
import { GO_BUILDER_IMAGE, loadFrontendImage, loadGoBuilderImage } from './support/frontend-images.js';
import { goci } from './support/goci.js';
import { pushBaseImage } from './support/base-image.js';
import { assertSameImages, registryImages, type PlatformImage } from './support/image-listing.js';
import { parityFixture } from './support/parity-fixture.js';
import { startRegistry, type RegistryHarness } from './support/registry.js';
import { removeDirectory, temporaryDirectory } from './support/workspace.js';

/**
 * Acceptance 1 of issue 11 on Docker 20.10 (BuildKit v0.8, one platform): the same goci.yaml,
 * version and SOURCE_DATE_EPOCH built by `goci build --push` and by `docker build` through the
 * frontend (then `docker push`) gives the same image in the registry.
 */
const EPOCH = '1714564800';
let daemon: DockerdHarness;
let registry: RegistryHarness;
let work: string;

function output(result: { stdout?: unknown; stderr?: unknown }): string {
  return `${String(result.stdout ?? '')}\n${String(result.stderr ?? '')}`;
}

before(async () => {
  work = await temporaryDirectory('frontend-parity');
  registry = await startRegistry();
  daemon = await startDockerd();
  await Promise.all([loadFrontendImage(daemon, work), loadGoBuilderImage(daemon, work, '1.19')]);
});
after(async () => {
  await daemon?.stop();
  await registry?.stop();
  await removeDirectory(work);
});

/**
 * The parity fixture (on `base` when given) for linux/amd64, built by `goci build --push` and by
 * `docker build` through the frontend then `docker push`; both read back from the registry.
 */
async function buildBothWays(
  name: string,
  base?: string,
): Promise<{ cli: PlatformImage[]; frontend: PlatformImage[] }> {
  const platforms = ['linux/amd64'];
  const cliDir = await parityFixture(join(work, `${name}-cli`), platforms, base);
  const frontendDir = await parityFixture(join(work, `${name}-frontend`), platforms, base);
  const cliRef = `${registry.host}/${name}:cli`;
  const cli = await goci(
    ['build', '.', '--push', cliRef, '--buildvcs', 'false', '--version', '1.2.3', '--sbom', 'none'],
    { cwd: cliDir, env: { ...process.env, SOURCE_DATE_EPOCH: EPOCH } },
  );
  assert.equal(cli.exitCode, 0, cli.stderr);
  const frontendRef = `${registry.host}/${name}:frontend`;
  const args = [`GO_IMAGE=${GO_BUILDER_IMAGE}`, 'VERSION=1.2.3', `SOURCE_DATE_EPOCH=${EPOCH}`];
  const built = await docker(
    [
      'build',
      '--progress',
      'plain',
      '-f',
      join(frontendDir, 'goci.yaml'),
      ...args.flatMap((arg) => ['--build-arg', arg]),
      '--platform',
      'linux/amd64',
      '-t',
      frontendRef,
      frontendDir,
    ],
    { env: { ...daemon.env, DOCKER_BUILDKIT: '1' } },
    { timeoutMs: 1_200_000 },
  );
  assert.equal(built.exitCode, 0, output(built));
  const pushed = await docker(['push', frontendRef], daemon, { timeoutMs: 600_000 });
  assert.equal(pushed.exitCode, 0, output(pushed));
  return {
    cli: await registryImages(cliRef, join(work, `${name}-cli-layout`)),
    frontend: await registryImages(frontendRef, join(work, `${name}-frontend-layout`)),
  };
}

describe('the frontend and the CLI build the same image', () => {
  test('examples/server with two binaries and image.files, linux/amd64: same config, layer count and layer listings', async () => {
    const { cli, frontend } = await buildBothWays('parity');
    assertSameImages(assert.deepEqual, frontend, cli);
    assert.equal(cli[0]?.layers.length, 3, 'base, image.files, binaries');
  });
});

describe('the frontend and the CLI build the same image on a registry base pushed first (linux/amd64)', () => {
  let base: PlatformImage[];
  let built: { cli: PlatformImage[]; frontend: PlatformImage[] };

  before(async () => {
    const baseRef = `${registry.host}/parity-base:1`;
    await pushBaseImage(work, baseRef, ['linux/amd64', 'linux/arm64']);
    base = await registryImages(baseRef, join(work, 'parity-base-layout'));
    built = await buildBothWays('parity-on-base', baseRef);
  });

  test("same config, layer count, the base's layers as the same blobs, and every layer's listing", () => {
    const { cli, frontend } = built;
    assert.deepEqual(
      cli.map((image) => [image.platform, image.layers.length]),
      [['linux/amd64', 3]],
      "the base's one layer, image.files, binaries",
    );
    assertSameImages(assert.deepEqual, frontend, cli, base);
  });

  test("the image.files layer keeps the base's /srv owner (1000:1000) for the parent it writes", () => {
    for (const image of built.cli) {
      const srv = image.layers[1]?.find((entry) => entry.path === 'srv');
      assert.deepEqual([srv?.type, srv?.mode, srv?.uid, srv?.gid], ['directory', '755', 1000, 1000], image.platform);
    }
  });
});
