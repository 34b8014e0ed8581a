import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Builder } from '../compiler/builder.js';
import type { Binary } from '../compiler/checked-binary.js';
import { reportingHostBuilder } from '../pipeline/reporting-builder.js';
import type { Progress } from '../pipeline/progress.js';
import { runBuild } from '../pipeline/run-build.js';
import { startProxy, type RegistryProxy } from './support/proxy.js';
import { startRegistry, type RegistryHarness } from './support/registry.js';
import { exampleRepository, removeDirectory, temporaryDirectory } from './support/workspace.js';

/**
 * Issue 12: a multi-platform build is a pipeline, shown by its order of events, not by timings.
 * A test Builder runs the host's `go build` for every target but hands over the last target's
 * binary, and returns, only once the registry has seen a blob upload begin: the build can only
 * finish if an earlier platform's layer is uploaded while the last target still counts as building.
 */
const PLATFORMS = ['linux/amd64', 'linux/arm64', 'linux/arm/v7'];
let registry: RegistryHarness;
let proxy: RegistryProxy;
let repo: string;
let work: string;

before(async () => {
  work = await temporaryDirectory('pipelining');
  // A layer cache of its own: a binaries layer an earlier run left there is not sent early (it was pushed already).
  process.env.GOCI_CACHE_DIR = join(work, 'cache');
  [registry, repo] = await Promise.all([startRegistry(), exampleRepository('hello', 'pipelining')]);
  proxy = await startProxy(registry.url);
});
after(async () => {
  await proxy?.stop();
  await registry?.stop();
  await Promise.all([repo, work].map(removeDirectory));
});

const quiet: Progress = { report: () => undefined, finish: () => undefined };

/** The host's go build, the last target's binary held back until the registry sees an upload start. */
function lastTargetHeldUntilAnUpload(dist: string, order: string[]): Builder {
  const host = reportingHostBuilder({ dist, jobs: () => 4, cache: false }, quiet);
  return {
    async build(plan, onBinary) {
      const last = plan.targets.at(-1);
      const held: Binary<string>[] = [];
      const staged = await host.build(plan, (binary) => {
        if (binary.target === last) held.push(binary);
        else onBinary?.(binary);
      });
      const upload = await proxy.seen((record) => record.method === 'POST' && record.path.endsWith('/blobs/uploads/'));
      order.push(`upload began ${upload.path}`);
      order.push('last target built');
      for (const binary of held) onBinary?.(binary);
      return staged;
    },
  };
}

async function manifestLayers(repository: string, digest: string): Promise<string[]> {
  const response = await fetch(`${registry.url}/v2/${repository}/manifests/${digest}`, {
    headers: { Accept: 'application/vnd.oci.image.manifest.v1+json' },
  });
  const manifest = (await response.json()) as { layers: { digest: string }[] };
  return manifest.layers.map((layer) => layer.digest);
}

describe('a 3-platform build --push', () => {
  test("uploads an earlier platform's binaries layer before the last target's go build ends", async () => {
    const dist = join(work, 'dist');
    const order: string[] = [];
    proxy.reset();
    const images = await runBuild({
      compile: {
        packages: [repo],
        config: undefined,
        platforms: PLATFORMS,
        version: '1.2.3',
        buildvcs: 'false',
        env: process.env,
      },
      settings: { dist, format: 'oci', sbom: 'none', push: `${proxy.host}/pipe/hello` },
      builder: lastTargetHeldUntilAnUpload(dist, order),
      progress: quiet,
      registry: { insecureRegistries: [], verbose: undefined },
    });
    assert.deepEqual(order, ['upload began /v2/pipe/hello/blobs/uploads/', 'last target built']);
    const image = images?.[0];
    assert.deepEqual(
      image?.platforms.map((platform) => platform.platform),
      PLATFORMS,
    );
    // The upload that began first carried a binaries layer (an image's last) of one of the first two platforms.
    const firstPut = proxy.records.find((record) => record.method === 'PUT' && record.url.includes('digest='));
    const uploaded = decodeURIComponent(/digest=([^&]+)/.exec(firstPut?.url ?? '')?.[1] ?? '');
    const binariesLayers = await Promise.all(
      (image?.platforms ?? []).map(async (platform) => (await manifestLayers('pipe/hello', platform.digest)).at(-1)),
    );
    assert.ok(binariesLayers.slice(0, 2).includes(uploaded), `${uploaded} is not in ${binariesLayers.join(', ')}`);
  });
});
