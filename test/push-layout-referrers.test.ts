import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { goci } from './support/goci.js';
import { startRegistry, type RegistryHarness } from './support/registry.js';
import { exampleRepository, removeDirectory, temporaryDirectory } from './support/workspace.js';

const PLATFORMS = 'linux/amd64,linux/arm64';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';

/** The hello example at 1.2.3, SOURCE_DATE_EPOCH pinned: its index and platform images. */
const INDEX = 'sha256:9b7f50679ba41a68396e2613d184e476928db5198946bda399579146607d2aec';
const PLATFORM_DIGESTS = [
  'sha256:1387936a1b615751592bb6e2e3aa59d4a27ecf0fc89a904f81af3e82e1eeecaa',
  'sha256:358677df810ab6fa6cdf12c5ce415132e6341ec773adea64cf593b7265415e0e',
];
/** Each platform's SBOM artifact as the layout stores it (the SPDX document names the image `hello:1.2.3`). */
const SBOM_MANIFESTS = [
  'sha256:d26288ba963f619c3ab486389c20c044f5af69e4378f89d779990f2b773e7334',
  'sha256:d9e39ce10e766faa559e3e1f9dc6b93e57806f7875edd62035a4498badf96e5c',
];

let registry: RegistryHarness;
let work: string;
let repo: string;
let env: NodeJS.ProcessEnv;

async function build(...extra: string[]): Promise<void> {
  const args = ['build', '.', '--platform', PLATFORMS, '--version', '1.2.3', '--progress', 'plain', ...extra];
  const result = await goci(args, { cwd: repo, env });
  assert.equal(result.exitCode, 0, result.stderr);
}

async function registryGet(path: string, accept: string): Promise<{ status: number; body: Buffer }> {
  const response = await fetch(`${registry.url}${path}`, { headers: { Accept: accept } });
  return { status: response.status, body: Buffer.from(await response.arrayBuffer()) };
}

/** The referrers a registry without a referrers API lists under a manifest: its `sha256-<hex>` tag. */
async function fallbackIndex(repository: string, subject: string): Promise<{ status: number; body: Buffer }> {
  return registryGet(`/v2/${repository}/manifests/sha256-${subject.slice(7)}`, OCI_INDEX);
}

interface Listed {
  mediaType: string;
  digest: string;
  size: number;
  artifactType: string;
  annotations: Record<string, string>;
}

function listed(body: Buffer): Listed[] {
  return (JSON.parse(body.toString()) as { manifests: Listed[] }).manifests;
}

before(async () => {
  work = await temporaryDirectory('push-referrers');
  env = { ...process.env, SOURCE_DATE_EPOCH: '1714564800', GOCI_CACHE_DIR: join(work, 'cache') };
  [registry, repo] = await Promise.all([startRegistry(), exampleRepository('hello', 'push-referrers')]);
  await build('--oci-layout', join(work, 'layout'), '--dist', join(work, 'dist'));
  await build('--push', `${registry.host}/acme/direct:1.2.3`, '--dist', join(work, 'dist-push'));
});
after(async () => {
  await registry?.stop();
  await Promise.all([work, repo].map(removeDirectory));
});

describe('goci push oci:LAYOUT carries the layout referrers (SBOMs)', () => {
  test('the pushed index is the one goci build --push pushes', async () => {
    const result = await goci(
      ['push', `oci:${join(work, 'layout')}:1.2.3`, `${registry.host}/acme/from-layout:1.2.3`],
      {
        env,
      },
    );
    assert.equal(result.exitCode, 0, result.stderr);
    assert.equal(result.stdout.split(' ')[1], `${registry.host}/acme/from-layout@${INDEX}`);
    for (const repository of ['acme/direct', 'acme/from-layout']) {
      const index = JSON.parse((await registryGet(`/v2/${repository}/manifests/1.2.3`, OCI_INDEX)).body.toString());
      assert.deepEqual(
        (index as { manifests: { digest: string }[] }).manifests.map((entry) => entry.digest),
        PLATFORM_DIGESTS,
      );
    }
  });

  test('every platform image lists its layout SBOM under its sha256-<hex> fallback tag', async () => {
    for (const [position, subject] of PLATFORM_DIGESTS.entries()) {
      const fromLayout = await fallbackIndex('acme/from-layout', subject);
      assert.equal(fromLayout.status, 200);
      assert.deepEqual(listed(fromLayout.body), [
        {
          mediaType: OCI_MANIFEST,
          digest: SBOM_MANIFESTS[position],
          size: 661,
          artifactType: 'application/spdx+json',
          annotations: { 'org.opencontainers.image.created': '2024-05-01T12:00:00Z' },
        },
      ]);
    }
  });

  test('goci build --push attaches the very same SBOM artifacts (the SBOM names the image, not the push target)', async () => {
    for (const [position, subject] of PLATFORM_DIGESTS.entries()) {
      assert.deepEqual(listed((await fallbackIndex('acme/direct', subject)).body), [
        {
          mediaType: OCI_MANIFEST,
          digest: SBOM_MANIFESTS[position],
          size: 661,
          artifactType: 'application/spdx+json',
          annotations: { 'org.opencontainers.image.created': '2024-05-01T12:00:00Z' },
        },
      ]);
    }
  });

  test('each SBOM artifact names its platform image as subject, and its SPDX blob is in the repository', async () => {
    for (const [position, digest] of SBOM_MANIFESTS.entries()) {
      const artifact = await registryGet(`/v2/acme/from-layout/manifests/${digest}`, OCI_MANIFEST);
      assert.equal(artifact.status, 200);
      const manifest = JSON.parse(artifact.body.toString()) as {
        subject: { digest: string };
        layers: { digest: string }[];
      };
      assert.equal(manifest.subject.digest, PLATFORM_DIGESTS[position]);
      const blob = await registryGet(`/v2/acme/from-layout/blobs/${manifest.layers[0]!.digest}`, '*/*');
      assert.equal((JSON.parse(blob.body.toString()) as { spdxVersion: string }).spdxVersion, 'SPDX-2.3');
    }
  });

  test('a layout built with --sbom none pushes no fallback tag', async () => {
    const layout = join(work, 'layout-nosbom');
    await build('--oci-layout', layout, '--dist', join(work, 'dist-nosbom'), '--sbom', 'none');
    const result = await goci(['push', `oci:${layout}:1.2.3`, `${registry.host}/acme/no-sbom:1.2.3`], { env });
    assert.equal(result.exitCode, 0, result.stderr);
    for (const subject of PLATFORM_DIGESTS) assert.equal((await fallbackIndex('acme/no-sbom', subject)).status, 404);
  });
});
