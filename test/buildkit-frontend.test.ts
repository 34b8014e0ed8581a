import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { cp, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { execa } from 'execa';
import { goBuilderImage } from '../images/go-builder-image.js';
import { tagInLayout } from '../oci/layout.js';
import {
  buildctl,
  buildkitBinaries,
  frontendBuildArgs,
  buildkitSkipReason,
  startBuildkitd,
  type BuildkitdHarness,
} from './support/buildkitd.js';
import { BASE_RUNTIME, pushBaseImage } from './support/base-image.js';
import { REPO_ROOT, goci } from './support/goci.js';
import { assertSameImages, registryImages, type PlatformImage } from './support/image-listing.js';
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
  extraOpts: string[] = [],
): Promise<{ exitCode: number; output: string }> {
  const args = frontendBuildArgs({
    frontend: frontendRef,
    dir,
    platforms,
    goImage: goImageRef,
    version: '1.2.3',
    epoch: EPOCH,
    name,
    extraOpts,
  });
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

const PARITY_PLATFORMS = ['linux/amd64', 'linux/arm64', 'linux/arm/v7'];

/**
 * The parity fixture (on `base` when given) for PARITY_PLATFORMS, built by `goci build --push` and
 * by the frontend (pushed by BuildKit); both read back from the registry.
 */
async function buildBothWays(
  name: string,
  base?: string,
): Promise<{ cli: PlatformImage[]; frontend: PlatformImage[] }> {
  const cliDir = await parityFixture(join(work, `${name}-cli`), PARITY_PLATFORMS, base);
  const frontendDir = await parityFixture(join(work, `${name}-frontend`), PARITY_PLATFORMS, base);
  const cliRef = `${registry.host}/${name}:cli`;
  const cli = await goci(
    ['build', '.', '--push', cliRef, '--buildvcs', 'false', '--version', '1.2.3', '--sbom', 'none'],
    { cwd: cliDir, env: { ...process.env, SOURCE_DATE_EPOCH: EPOCH } },
  );
  assert.equal(cli.exitCode, 0, cli.stderr);
  const frontendRef = `${registry.host}/${name}:frontend`;
  const built = await frontendBuild(frontendDir, PARITY_PLATFORMS.join(','), frontendRef);
  assert.equal(built.exitCode, 0, built.output.trimEnd().split('\n').slice(-8).join('\n'));
  return {
    cli: await registryImages(cliRef, join(work, `${name}-cli-layout`)),
    frontend: await registryImages(frontendRef, join(work, `${name}-frontend-layout`)),
  };
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
    // With its SBOM attestation BuildKit pushes even one platform as an index (the image and the attestation manifest).
    assert.deepEqual(indexPlatforms(await skopeo(['--raw', `docker://${name}`])), ['linux/arm64']);
    const config = await skopeo(['--config', '--override-arch', 'arm64', `docker://${name}`]);
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
    const { cli, frontend } = await buildBothWays('parity');
    assert.deepEqual(
      cli.map((image) => [image.platform, image.layers.length]),
      [
        ['linux/amd64', 3],
        ['linux/arm/v7', 3],
        ['linux/arm64', 3],
      ],
    );
    assertSameImages(assert.deepEqual, frontend, cli);
  });
});

describe('examples/server with two binaries and image.files on a registry base of the 3 platforms pushed first', () => {
  let base: PlatformImage[];
  let built: { cli: PlatformImage[]; frontend: PlatformImage[] };

  before(async () => {
    if (skip !== undefined) return;
    const baseRef = `${registry.host}/parity-base:1`;
    await pushBaseImage(work, baseRef, PARITY_PLATFORMS);
    base = await registryImages(baseRef, join(work, 'parity-base-layout'));
    built = await buildBothWays('parity-on-base', baseRef);
  });

  test("same config, layer count, the base's layers as the same blobs, and every layer's listing", { skip }, () => {
    const { cli, frontend } = built;
    assert.deepEqual(
      cli.map((image) => [image.platform, image.layers.length]),
      [
        ['linux/amd64', 3],
        ['linux/arm/v7', 3],
        ['linux/arm64', 3],
      ],
      "the base's one layer, image.files, binaries",
    );
    assertSameImages(assert.deepEqual, frontend, cli, base);
  });

  test("the image.files layer keeps the base's /srv owner (1000:1000) for the parent it writes", { skip }, () => {
    for (const image of built.cli) {
      const srv = image.layers[1]?.find((entry) => entry.path === 'srv');
      assert.deepEqual([srv?.type, srv?.mode, srv?.uid, srv?.gid], ['directory', '755', 1000, 1000], image.platform);
    }
  });
});

const MANIFEST_TYPES = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.docker.distribution.manifest.v2+json',
].join(', ');

/** A registry's document or blob, by tag or digest, as BuildKit or goci pushed it. */
async function registryBytes(repository: string, kind: 'manifests' | 'blobs', reference: string): Promise<Buffer> {
  const response = await fetch(`${registry.url}/v2/${repository}/${kind}/${reference}`, {
    headers: { accept: MANIFEST_TYPES },
  });
  assert.equal(response.status, 200, `${kind} ${reference} of ${repository}`);
  return Buffer.from(await response.arrayBuffer());
}

async function registryJson(
  repository: string,
  kind: 'manifests' | 'blobs',
  reference: string,
): Promise<Record<string, any>> {
  return JSON.parse((await registryBytes(repository, kind, reference)).toString('utf8')) as Record<string, any>;
}

/** The manifest of each platform in an index, by `os/arch[/variant]` (attestation manifests left out). */
async function platformManifests(repository: string, index: Record<string, any>): Promise<Map<string, any>> {
  const entries = (index.manifests as Record<string, any>[]).filter(
    (entry) => entry.annotations?.['vnd.docker.reference.type'] !== 'attestation-manifest',
  );
  const manifests = new Map<string, any>();
  for (const entry of entries) {
    const { os, architecture, variant } = entry.platform;
    const manifest = await registryJson(repository, 'manifests', entry.digest);
    manifests.set([os, architecture, variant].filter(Boolean).join('/'), { digest: entry.digest, ...manifest });
  }
  return manifests;
}

describe('examples/server on a registry base, with SBOM attestations, on BuildKit v0.11.6 (linux/amd64, linux/arm64)', () => {
  const PLATFORMS = ['linux/amd64', 'linux/arm64'];
  let baseRef: string;
  let frontendIndex: Record<string, any>;
  let cliIndex: Record<string, any>;
  let cliLayout: string;

  before(async () => {
    if (skip !== undefined) return;
    baseRef = `${registry.host}/base:1`;
    await pushBaseImage(work, baseRef, PLATFORMS);
    const built = await frontendBuild(
      await serverExample('on-base'),
      PLATFORMS.join(','),
      `${registry.host}/server-fe:1.2.3`,
      [`build-arg:BASE=${baseRef}`, 'build-arg:PROVENANCE=true'],
    );
    assert.equal(built.exitCode, 0, built.output.trimEnd().split('\n').slice(-12).join('\n'));
    const cliDir = await serverExample('on-base-cli');
    cliLayout = join(work, 'on-base-cli-layout');
    const common = [
      'build',
      '.',
      '--base',
      baseRef,
      '--platform',
      PLATFORMS.join(','),
      '--version',
      '1.2.3',
      '--progress',
      'plain',
      '--provenance',
    ];
    const env = { env: { ...process.env, SOURCE_DATE_EPOCH: EPOCH }, cwd: cliDir };
    // Pushed, as the frontend's image is; and into a layout, whose SBOM is named as the frontend names its own.
    for (const output of [
      ['--push', `${registry.host}/server-cli`],
      ['--oci-layout', cliLayout],
    ]) {
      const cli = await goci([...common, ...output], env);
      assert.equal(cli.exitCode, 0, cli.stderr);
    }
    frontendIndex = await registryJson('server-fe', 'manifests', '1.2.3');
    cliIndex = await registryJson('server-cli', 'manifests', '1.2.3');
  });

  test("each platform image starts with the base image's layers, the same blobs", { skip }, async () => {
    const base = await platformManifests('base', await registryJson('base', 'manifests', '1'));
    const built = await platformManifests('server-fe', frontendIndex);
    assert.deepEqual([...built.keys()].sort(), PLATFORMS);
    for (const platform of PLATFORMS) {
      const baseLayers = base.get(platform).layers.map((layer: any) => layer.digest);
      assert.equal(baseLayers.length, 1);
      const layers = built.get(platform).layers.map((layer: any) => layer.digest);
      assert.deepEqual(layers.slice(0, baseLayers.length), baseLayers, platform);
      assert.ok(layers.length > baseLayers.length, `${platform}: goci's layers follow the base's`);
    }
  });

  test("each platform's config is the CLI's on the same base, except created, history and goci's own layers", {
    skip,
  }, async () => {
    const frontend = await platformManifests('server-fe', frontendIndex);
    const cli = await platformManifests('server-cli', cliIndex);
    for (const platform of PLATFORMS) {
      // BuildKit v0.11's image exporter adds its own (deprecated) build info, the sources it pulled,
      // unless the output says buildinfo=false: BuildKit's field, not goci's.
      const {
        created: _a,
        history: _b,
        rootfs: frontendRootfs,
        'moby.buildkit.buildinfo.v1': _buildInfo,
        ...fromFrontend
      } = await registryJson('server-fe', 'blobs', frontend.get(platform).config.digest);
      const {
        created: _c,
        history: _d,
        rootfs: cliRootfs,
        ...fromCli
      } = await registryJson('server-cli', 'blobs', cli.get(platform).config.digest);
      assert.deepEqual(fromFrontend, fromCli, platform);
      // What the base gives and goci.yaml does not override is inherited; its entrypoint, cmd, ports and labels are not.
      assert.deepEqual(fromFrontend.config.Env.slice(0, 3), BASE_RUNTIME.env);
      assert.deepEqual([fromFrontend.config.User, fromFrontend.config.WorkingDir], ['1000:1000', '/srv']);
      assert.deepEqual(fromFrontend.config.Entrypoint, ['/usr/local/bin/server']);
      assert.equal(fromFrontend.config.Labels['org.example.base'], undefined);
      const baseDiffIds = cliRootfs.diff_ids.slice(0, 1);
      assert.deepEqual(frontendRootfs.diff_ids.slice(0, 1), baseDiffIds, `${platform}: the base's diff_id first`);
    }
  });

  test('the index carries the base name and digest as the CLI writes them; each image manifest the base name', {
    skip,
  }, async () => {
    const baseDigest = `sha256:${createHash('sha256')
      .update(await registryBytes('base', 'manifests', '1'))
      .digest('hex')}`;
    const baseKeys = ['org.opencontainers.image.base.name', 'org.opencontainers.image.base.digest'];
    const pick = (annotations: Record<string, string> | undefined, keys: string[]) =>
      Object.fromEntries(keys.map((key) => [key, annotations?.[key]]));
    assert.deepEqual(pick(frontendIndex.annotations, baseKeys), {
      'org.opencontainers.image.base.name': baseRef,
      'org.opencontainers.image.base.digest': baseDigest,
    });
    assert.deepEqual(pick(frontendIndex.annotations, baseKeys), pick(cliIndex.annotations, baseKeys));
    const frontend = await platformManifests('server-fe', frontendIndex);
    const cli = await platformManifests('server-cli', cliIndex);
    for (const platform of PLATFORMS) {
      assert.deepEqual(
        pick(frontend.get(platform).annotations, [baseKeys[0]!]),
        pick(cli.get(platform).annotations, [baseKeys[0]!]),
        platform,
      );
      assert.equal(
        frontend.get(platform).annotations[baseKeys[1]!],
        undefined,
        'BuildKit does not tell the platform manifest',
      );
    }
  });

  test("the index holds an SBOM attestation per platform whose in-toto predicate is the CLI's SPDX document", {
    skip,
  }, async () => {
    const frontend = await platformManifests('server-fe', frontendIndex);
    const attestations = (frontendIndex.manifests as Record<string, any>[]).filter(
      (entry) => entry.annotations?.['vnd.docker.reference.type'] === 'attestation-manifest',
    );
    assert.equal(attestations.length, PLATFORMS.length);
    for (const platform of PLATFORMS) {
      const image = frontend.get(platform);
      const entry = attestations.find((item) => item.annotations['vnd.docker.reference.digest'] === image.digest);
      assert.ok(entry, `an attestation manifest for ${platform}`);
      const manifest = await registryJson('server-fe', 'manifests', entry.digest);
      assert.deepEqual(
        manifest.layers.map((layer: any) => [layer.mediaType, layer.annotations['in-toto.io/predicate-type']]),
        [
          ['application/vnd.in-toto+json', 'https://spdx.dev/Document'],
          ['application/vnd.in-toto+json', 'https://goci.dev/provenance/slsa-v1'],
        ],
      );
      const statement = await registryJson('server-fe', 'blobs', manifest.layers[0].digest);
      assert.equal(statement.predicateType, 'https://spdx.dev/Document');
      assert.deepEqual(
        statement.subject.map((subject: any) => subject.digest.sha256),
        [image.digest.replace('sha256:', '')],
      );
      const cliSbom = await goci(['inspect', '--sbom', '--platform', platform, `oci:${cliLayout}:1.2.3`]);
      assert.equal(cliSbom.exitCode, 0, cliSbom.stderr);
      assert.deepEqual(statement.predicate, JSON.parse(cliSbom.stdout), platform);
    }
  });

  test("each platform's provenance (build arg PROVENANCE) is the CLI's SLSA v1 predicate, under goci's type", {
    skip,
  }, async () => {
    const frontend = await platformManifests('server-fe', frontendIndex);
    const cli = await platformManifests('server-cli', cliIndex);
    for (const platform of PLATFORMS) {
      const image = frontend.get(platform);
      const entry = (frontendIndex.manifests as Record<string, any>[]).find(
        (item) => item.annotations?.['vnd.docker.reference.digest'] === image.digest,
      );
      const manifest = await registryJson('server-fe', 'manifests', entry!.digest);
      const layer = manifest.layers.find(
        (item: any) => item.annotations['in-toto.io/predicate-type'] === 'https://goci.dev/provenance/slsa-v1',
      );
      const statement = await registryJson('server-fe', 'blobs', layer.digest);
      assert.deepEqual(
        statement.subject.map((subject: any) => subject.digest.sha256),
        [image.digest.replace('sha256:', '')],
      );
      // The CLI's statement about its own image of the platform, from its DSSE envelope under the fallback tag.
      const cliDigest = cli.get(platform).digest as string;
      const listed = await registryJson('server-cli', 'manifests', cliDigest.replace(':', '-'));
      const referrer = (listed.manifests as Record<string, any>[]).find(
        (item) => item.annotations?.['dev.goci.predicate-type'] === 'https://slsa.dev/provenance/v1',
      );
      const artifact = await registryJson('server-cli', 'manifests', referrer!.digest);
      const envelope = await registryJson('server-cli', 'blobs', artifact.layers[0].digest);
      const cliPredicate = JSON.parse(Buffer.from(envelope.payload, 'base64').toString('utf8')).predicate;
      const ours = statement.predicate;
      assert.deepEqual(ours.buildDefinition.resolvedDependencies, cliPredicate.buildDefinition.resolvedDependencies);
      assert.equal(ours.buildDefinition.buildType, cliPredicate.buildDefinition.buildType);
      const { buildArgs, ...parameters } = ours.buildDefinition.externalParameters;
      assert.deepEqual(
        { ...parameters, imageFlags: cliPredicate.buildDefinition.externalParameters.imageFlags },
        cliPredicate.buildDefinition.externalParameters,
      );
      assert.deepEqual(buildArgs, {
        BASE: baseRef,
        GO_IMAGE: goImageRef,
        PROVENANCE: 'true',
        SOURCE_DATE_EPOCH: EPOCH,
        VERSION: '1.2.3',
      });
      assert.deepEqual(ours.buildDefinition.internalParameters, {
        sourceDateEpoch: Number(EPOCH),
        compression: 'by BuildKit',
      });
      assert.match(ours.runDetails.builder.id, /^https:\/\/goci\.dev\/frontend@/);
    }
  });

  test("a base without one of the target platforms ends the build with goci's message naming both", {
    skip,
  }, async () => {
    const amd64Only = `${registry.host}/base-amd64:1`;
    await pushBaseImage(work, amd64Only, ['linux/amd64']);
    const built = await frontendBuild(await serverExample('base-missing'), 'linux/arm64', `${registry.host}/no:1`, [
      `build-arg:BASE=${amd64Only}`,
    ]);
    assert.notEqual(built.exitCode, 0);
    assert.match(
      built.output,
      /goci: build arg BASE: BuildKit could not resolve the base image 127\.0\.0\.1:\d+\/base-amd64:1 for linux\/arm64/,
    );
  });
});
