import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { execa } from 'execa';
import { formatSize } from '../cli/table.js';
import { formatPlatform, hostLinuxPlatform } from '../compiler/platform.js';
import type { ImageReport } from '../inspect/read-image.js';
import { goci, lastLine } from './support/goci.js';
import { goVersionM } from './support/go-version.js';
import { freePort, startRegistry, type RegistryHarness } from './support/registry.js';
import { removeDirectory, temporaryDirectory } from './support/workspace.js';
import { found } from '../common/found.js';

const PLATFORMS = ['linux/amd64', 'linux/arm64', 'linux/arm/v7'];
const EPOCH = '1714564800';
const CREATED = '2024-05-01T12:00:00Z';
const SPDX = 'application/spdx+json';
const CYCLONEDX = 'application/vnd.cyclonedx+json';
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';

interface BuildJson {
  images: {
    index: { digest: string; size: number };
    platforms: { platform: string; digest: string; size: number }[];
    pushed: { reference: string; tags: string[]; sboms: string[] };
  }[];
}

let registry: RegistryHarness;
let work: string;
/** TMPDIR of every goci run here, so leftover downloads would show. */
let scratch: string;
/** For goci inspect: TMPDIR is `scratch`. */
let env: NodeJS.ProcessEnv;
/** For goci build. */
let buildEnv: NodeJS.ProcessEnv;
let built: BuildJson['images'][number];
let fromLayout: ImageReport;
let fromRegistry: ImageReport;

function image(repository: string, tag = '1.2.3'): string {
  return `docker://${registry.host}/${repository}:${tag}`;
}

async function build(dist: string, repository: string, extra: string[] = []): Promise<BuildJson['images'][number]> {
  const result = await goci(
    [
      'build',
      'examples/hello',
      '--platform',
      PLATFORMS.join(','),
      '--version',
      '1.2.3',
      '--dist',
      dist,
      '--oci-layout',
      join(dist, 'oci'),
      '--push',
      `${registry.host}/${repository}`,
      '--json',
      ...extra,
    ],
    { env: buildEnv },
  );
  assert.equal(result.exitCode, 0, result.stderr);
  return (JSON.parse(result.stdout) as BuildJson).images[0]!;
}

async function inspect(args: string[]): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  return goci(['inspect', ...args], { env });
}

async function inspectJson(target: string): Promise<ImageReport> {
  const result = await inspect(['--json', target]);
  assert.equal(result.exitCode, 0, result.stderr);
  return JSON.parse(result.stdout) as ImageReport;
}

/** `goci inspect --sbom`: stdout must be the document alone, pretty-printed. */
async function sbom(target: string, platform?: string): Promise<Record<string, any>> {
  const result = await inspect([target, '--sbom', ...(platform ? ['--platform', platform] : [])]);
  assert.equal(result.exitCode, 0, result.stderr);
  assert.equal(result.stderr, '');
  const document = JSON.parse(result.stdout) as Record<string, any>;
  // execa strips the one final newline goci ends the document with.
  assert.equal(result.stdout, JSON.stringify(document, null, 2));
  return document;
}

async function failure(args: string[]): Promise<{ exitCode: number; line: string }> {
  const result = await inspect(args);
  assert.equal(result.stdout, '');
  return { exitCode: result.exitCode, line: lastLine(result.stderr) };
}

/** The registry's own answer, not goci's. */
async function registryJson(path: string, accept: string): Promise<Record<string, any>> {
  const response = await fetch(`${registry.url}${path}`, { headers: { accept } });
  assert.equal(response.status, 200, path);
  return (await response.json()) as Record<string, any>;
}

function blobData(digest: string): string {
  const hex = digest.slice('sha256:'.length);
  return join(registry.root, 'data', 'docker', 'registry', 'v2', 'blobs', 'sha256', hex.slice(0, 2), hex, 'data');
}

/** Runs `check` with one byte of a blob in the registry's storage flipped, then puts it back. */
async function withFlippedByte(digest: string, check: (actual: string) => Promise<void>): Promise<void> {
  const path = blobData(digest);
  const original = await readFile(path);
  const flipped = Buffer.from(original);
  flipped[flipped.length >> 1]! ^= 0x01;
  await writeFile(path, flipped);
  try {
    await check(`sha256:${createHash('sha256').update(flipped).digest('hex')}`);
  } finally {
    await writeFile(path, original);
  }
}

function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

before(async () => {
  work = await temporaryDirectory('inspect-registry');
  scratch = join(work, 'tmp');
  await mkdir(scratch);
  // An empty docker config: no credential helper of this machine's is asked about the test registry.
  buildEnv = { ...process.env, SOURCE_DATE_EPOCH: EPOCH, DOCKER_CONFIG: join(work, 'docker-config') };
  env = { ...buildEnv, TMPDIR: scratch };
  registry = await startRegistry();
  built = await build(join(work, 'dist'), 'acme/hello');
  [fromLayout, fromRegistry] = await Promise.all([
    inspectJson(`oci:${join(work, 'dist', 'oci')}:1.2.3`),
    inspectJson(image('acme/hello')),
  ]);
});
after(async () => {
  await registry?.stop();
  await removeDirectory(work);
});

describe('goci inspect docker://REGISTRY/REPO:TAG of the image goci build pushed', () => {
  test('the push went through the referrers fallback tag (distribution 2.8 has no referrers API)', () => {
    assert.equal(built.pushed.reference, `${registry.host}/acme/hello@${built.index.digest}`);
    assert.deepEqual(built.pushed.sboms, ['fallback-tag', 'fallback-tag', 'fallback-tag']);
  });

  test('reports what the OCI layout of the same build reports, field by field, but the reference', () => {
    assert.equal(fromRegistry.reference, image('acme/hello'));
    assert.deepEqual(Object.keys(fromRegistry), Object.keys(fromLayout));
    assert.deepEqual(fromRegistry.index, { digest: built.index.digest });
    assert.deepEqual(fromRegistry.index, fromLayout.index);
    assert.equal(fromRegistry.platforms.length, 3);
    for (const [position, platform] of fromRegistry.platforms.entries()) {
      const expected = fromLayout.platforms[position]!;
      assert.deepEqual(Object.keys(platform), [
        'platform',
        'manifest',
        'config',
        'size',
        'labels',
        'entrypoint',
        'cmd',
        'env',
        'user',
        'workingDir',
        'exposedPorts',
        'volumes',
        'stopSignal',
        'binary',
        'referrers',
      ]);
      for (const key of Object.keys(expected) as (keyof typeof expected)[])
        assert.deepEqual(platform[key], expected[key], `${platform.platform}: ${key}`);
    }
    assert.deepEqual({ ...fromRegistry, reference: '' }, { ...fromLayout, reference: '' });
    assert.deepEqual(
      fromRegistry.platforms.map((platform) => ({
        platform: platform.platform,
        digest: platform.manifest,
        size: platform.size,
      })),
      built.platforms,
    );
  });

  test('each platform lists exactly one referrer: its SPDX SBOM, as the registry stores it', async () => {
    for (const platform of fromRegistry.platforms) {
      assert.equal(platform.referrers.length, 1, platform.platform);
      const [referrer] = platform.referrers;
      assert.equal(referrer!.artifactType, SPDX);
      assert.deepEqual(referrer!.annotations, { 'org.opencontainers.image.created': CREATED });
      const manifest = await registryJson(`/v2/acme/hello/manifests/${referrer!.digest}`, OCI_MANIFEST);
      assert.equal(manifest.artifactType, SPDX);
      assert.equal(manifest.subject.digest, platform.manifest);
      const fallback = await registryJson(
        `/v2/acme/hello/manifests/${platform.manifest!.replace(':', '-')}`,
        OCI_INDEX,
      );
      assert.deepEqual(
        fallback.manifests.map((entry: { digest: string; size: number }) => ({
          digest: entry.digest,
          size: entry.size,
        })),
        [{ digest: referrer!.digest, size: referrer!.size }],
      );
    }
  });

  test('the text form has a referrers section per platform, before the binary', async () => {
    const result = await inspect([image('acme/hello')]);
    assert.equal(result.exitCode, 0, result.stderr);
    const blocks = result.stdout.split('\n\n');
    assert.equal(blocks.length, 4);
    assert.equal(blocks[0], `reference:  ${image('acme/hello')}\nindex:      ${built.index.digest}`);
    for (const [position, platform] of fromRegistry.platforms.entries()) {
      const lines = blocks[position + 1]!.trimEnd().split('\n');
      assert.deepEqual(lines.slice(0, 4), [
        `platform:   ${platform.platform}`,
        `manifest:   ${platform.manifest}`,
        `config:     ${platform.config}`,
        `size:       ${formatSize(platform.size)} (${platform.size} bytes)`,
      ]);
      const start = lines.indexOf('referrers:');
      const referrer = platform.referrers[0]!;
      assert.deepEqual(lines.slice(start, start + 4), [
        'referrers:',
        `  ${referrer.digest} ${SPDX} (${referrer.size} bytes)`,
        `    org.opencontainers.image.created=${CREATED}`,
        'binary:',
      ]);
    }
    // The same text as for the layout, but the reference.
    const layoutText = await inspect([`oci:${join(work, 'dist', 'oci')}:1.2.3`]);
    assert.deepEqual(result.stdout.split('\n').slice(1), layoutText.stdout.split('\n').slice(1));
  });

  test('without a tag `latest` is read; by digest the index itself; the answer is the same', async () => {
    const latest = await inspectJson(`docker://${registry.host}/acme/hello`);
    assert.equal(latest.reference, image('acme/hello', 'latest'));
    assert.deepEqual({ ...latest, reference: '' }, { ...fromRegistry, reference: '' });
    const byDigest = await inspectJson(`docker://${registry.host}/acme/hello@${built.index.digest}`);
    assert.equal(byDigest.reference, `docker://${registry.host}/acme/hello@${built.index.digest}`);
    assert.deepEqual({ ...byDigest, reference: '' }, { ...fromRegistry, reference: '' });
    // One platform's manifest by digest: no index, that platform alone.
    const arm64 = fromRegistry.platforms[1]!;
    const single = await inspectJson(`docker://${registry.host}/acme/hello@${arm64.manifest}`);
    assert.deepEqual(single, {
      reference: `docker://${registry.host}/acme/hello@${arm64.manifest}`,
      platforms: [arm64],
    });
  });

  test('only the layer holding the entrypoint is downloaded, and nothing is left in TMPDIR', async () => {
    const result = await inspect([image('acme/hello'), '--verbose', '--insecure-registry', registry.host]);
    assert.equal(result.exitCode, 0, result.stderr);
    const fetched = [
      ...result.stderr.matchAll(/^goci: GET \S+\/v2\/acme\/hello\/blobs\/(sha256:[0-9a-f]{64}) 200$/gm),
    ].map((match) => match[1]!);
    const expected: string[] = [];
    for (const platform of fromRegistry.platforms) {
      const manifest = await registryJson(`/v2/acme/hello/manifests/${platform.manifest}`, OCI_MANIFEST);
      assert.ok(manifest.layers.length >= 2, 'the image has a base layer below the binary');
      // The config, the top layer (the binary), and the SPDX manifest's empty config is never read.
      expected.push(manifest.config.digest, manifest.layers.at(-1).digest);
    }
    assert.deepEqual(fetched.sort(), expected.sort());
    assert.deepEqual(await readdir(scratch), []);
  });

  test('a Docker schema 2 manifest list (as skopeo --format v2s2 writes it) reads the same configs and binaries', async () => {
    await execa('skopeo', [
      'copy',
      '--all',
      '--format',
      'v2s2',
      '--dest-tls-verify=false',
      `oci:${join(work, 'dist', 'oci')}:1.2.3`,
      image('acme/docker-format'),
    ]);
    const report = await inspectJson(image('acme/docker-format'));
    assert.notEqual(report.index!.digest, built.index.digest);
    assert.deepEqual(
      report.platforms.map(({ platform, config, labels, entrypoint, user, workingDir, binary }) => ({
        platform,
        config,
        labels,
        entrypoint,
        user,
        workingDir,
        binary,
      })),
      fromRegistry.platforms.map(({ platform, config, labels, entrypoint, user, workingDir, binary }) => ({
        platform,
        config,
        labels,
        entrypoint,
        user,
        workingDir,
        binary,
      })),
    );
    // skopeo copies the images, not their referrers.
    assert.deepEqual(
      report.platforms.map((platform) => platform.referrers),
      [[], [], []],
    );
    assert.deepEqual(await failure([image('acme/docker-format'), '--sbom', '--platform', 'linux/arm64']), {
      exitCode: 2,
      line: `goci: the linux/arm64 image of ${image('acme/docker-format')} has no SBOM (its referrers: none) (goci build attaches one to each platform image unless --sbom none; goci reads ${SPDX} and ${CYCLONEDX} referrers)`,
    });
  });
});

describe('goci inspect --sbom', () => {
  test("--platform linux/arm64 prints that platform's SPDX 2.3 document, describing the binary in dist/bin", async () => {
    const binary = join(work, 'dist', 'bin', 'hello-1.2.3-linux-arm64');
    const [document, oracle, bytes] = await Promise.all([
      sbom(image('acme/hello'), 'linux/arm64'),
      goVersionM(binary),
      readFile(binary),
    ]);
    assert.equal(document.spdxVersion, 'SPDX-2.3');
    const packages = document.packages as {
      name: string;
      versionInfo: string;
      primaryPackagePurpose: string;
      checksums?: { algorithm: string; checksumValue: string }[];
    }[];
    const main = packages.find((pkg) => pkg.name === 'goci.dev/examples/hello');
    assert.ok(main, 'the main module is a package');
    assert.equal(main.primaryPackagePurpose, 'APPLICATION');
    assert.deepEqual(main.checksums, [{ algorithm: 'SHA256', checksumValue: sha256(bytes) }]);
    const stdlib = packages.find((pkg) => pkg.name === 'stdlib');
    assert.ok(stdlib, 'stdlib is a package');
    assert.equal(stdlib.versionInfo, oracle.goVersion.replace(/^go/, ''));
    assert.equal(oracle.path, 'goci.dev/examples/hello');
  });

  test('the layout of the same build gives the same document; each platform its own', async () => {
    const layout = `oci:${join(work, 'dist', 'oci')}:1.2.3`;
    for (const platform of PLATFORMS) {
      const [remote, local] = await Promise.all([sbom(image('acme/hello'), platform), sbom(layout, platform)]);
      assert.deepEqual(remote, local);
      const main = found(
        (remote.packages as { primaryPackagePurpose: string; annotations: { comment: string }[] }[]).find(
          (pkg) => pkg.primaryPackagePurpose === 'APPLICATION',
        ),
        'the APPLICATION package',
      );
      assert.ok(
        main.annotations.some((note) => note.comment === `goci:platform=${platform}`),
        platform,
      );
    }
  });

  test("without --platform: this machine's Linux platform", async () => {
    const host = formatPlatform(hostLinuxPlatform());
    if (!PLATFORMS.includes(host)) {
      assert.deepEqual(await failure([image('acme/hello'), '--sbom']), {
        exitCode: 2,
        line: `goci: ${image('acme/hello')} has 3 platforms (${PLATFORMS.join(', ')}), none of them this machine's (${host}); name one (add --platform, such as --platform linux/amd64)`,
      });
      return;
    }
    assert.deepEqual(await sbom(image('acme/hello')), await sbom(image('acme/hello'), host));
  });

  test('an image built with --sbom cyclonedx prints its CycloneDX document instead', async () => {
    const cdx = await build(join(work, 'cdx'), 'acme/hello-cdx', ['--sbom', 'cyclonedx']);
    assert.equal(cdx.index.digest, built.index.digest, 'the same build is the same image');
    const report = await inspectJson(image('acme/hello-cdx'));
    assert.deepEqual(
      report.platforms.map((platform) => platform.referrers.map((referrer) => referrer.artifactType)),
      [[CYCLONEDX], [CYCLONEDX], [CYCLONEDX]],
    );
    const binary = join(work, 'cdx', 'bin', 'hello-1.2.3-linux-arm64');
    const [document, oracle, bytes] = await Promise.all([
      sbom(image('acme/hello-cdx'), 'linux/arm64'),
      goVersionM(binary),
      readFile(binary),
    ]);
    assert.equal(document.bomFormat, 'CycloneDX');
    assert.equal(document.specVersion, '1.5');
    assert.equal(document.metadata.component.name, 'goci.dev/examples/hello');
    assert.deepEqual(document.metadata.component.hashes, [{ alg: 'SHA-256', content: sha256(bytes) }]);
    const stdlib = (document.components as { name: string; version: string }[]).find(
      (component) => component.name === 'stdlib',
    );
    assert.equal(stdlib?.version, oracle.goVersion.replace(/^go/, ''));
  });

  test('an image with both SBOMs attached (pushed again with the other format) prints the newest', async () => {
    await build(join(work, 'both-spdx'), 'acme/both');
    await build(join(work, 'both-cdx'), 'acme/both', ['--sbom', 'cyclonedx']);
    const report = await inspectJson(image('acme/both'));
    assert.deepEqual(
      report.platforms[1]!.referrers.map((referrer) => referrer.artifactType),
      [SPDX, CYCLONEDX],
    );
    assert.equal((await sbom(image('acme/both'), 'linux/arm64')).bomFormat, 'CycloneDX');
  });

  test('a platform the image does not have, and --platform without --sbom', async () => {
    assert.deepEqual(await failure([image('acme/hello'), '--sbom', '--platform', 'linux/s390x']), {
      exitCode: 2,
      line: `goci: --platform linux/s390x: ${image('acme/hello')} has no such platform (it has ${PLATFORMS.join(', ')})`,
    });
    assert.deepEqual(await failure([image('acme/hello'), '--platform', 'linux/arm64']), {
      exitCode: 2,
      line: "goci: --platform goes with --sbom (goci inspect reports every platform of an image; --sbom --platform os/arch prints one platform's SBOM)",
    });
  });
});

describe('registry failures', () => {
  test('a tag the repository does not have lists its tags', async () => {
    assert.deepEqual(await failure([image('acme/hello', '9.9.9')]), {
      exitCode: 2,
      line: `goci: tag "9.9.9" is not in ${registry.host}/acme/hello (its tags: 1, 1.2, 1.2.3, latest) (name one of its tags, such as docker://${registry.host}/acme/hello:latest)`,
    });
  });

  test('a repository that does not exist', async () => {
    assert.deepEqual(await failure([image('acme/nothing')]), {
      exitCode: 2,
      line: `goci: repository ${registry.host}/acme/nothing does not exist (check the registry and the repository name: ${registry.host} lists no tags for acme/nothing)`,
    });
  });

  test('a registry that refuses connections', async () => {
    const port = await freePort();
    assert.deepEqual(await failure([`docker://127.0.0.1:${port}/acme/hello:1.2.3`, '--sbom']), {
      exitCode: 1,
      line: `goci: cannot connect to 127.0.0.1:${port}: connection refused (is the registry running at that host and port?)`,
    });
  });

  test('docker: without // names no image', async () => {
    assert.deepEqual(await failure([`docker:${registry.host}/acme/hello`]), {
      exitCode: 2,
      line: `goci: docker:${registry.host}/acme/hello names no registry image (write docker://REGISTRY/REPO[:TAG|@DIGEST], such as docker://ghcr.io/acme/api:1.2.3)`,
    });
  });

  test('a damaged layer or SBOM in the registry fails with its digest mismatch', async () => {
    const arm = fromRegistry.platforms[2]!;
    const manifest = await registryJson(`/v2/acme/hello/manifests/${arm.manifest}`, OCI_MANIFEST);
    const top = manifest.layers.at(-1) as { digest: string; size: number };
    await withFlippedByte(top.digest, async (actual) => {
      assert.deepEqual(await failure([image('acme/hello')]), {
        exitCode: 1,
        line: `goci: ${registry.host}/acme/hello: blob ${top.digest}: digest mismatch (received ${top.size} bytes hashing to ${actual})`,
      });
    });
    const referrer = await registryJson(`/v2/acme/hello/manifests/${arm.referrers[0]!.digest}`, OCI_MANIFEST);
    const payload = referrer.layers[0] as { digest: string; size: number };
    await withFlippedByte(payload.digest, async (actual) => {
      assert.deepEqual(await failure([image('acme/hello'), '--sbom', '--platform', 'linux/arm/v7']), {
        exitCode: 1,
        line: `goci: ${registry.host}/acme/hello: blob ${payload.digest}: digest mismatch (received ${payload.size} bytes hashing to ${actual})`,
      });
    });
    assert.deepEqual(await readdir(scratch), []);
  });
});
