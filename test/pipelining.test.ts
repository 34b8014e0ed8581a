import assert from 'node:assert/strict';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Builder } from '../compiler/builder.js';
import type { Binary } from '../compiler/checked-binary.js';
import { reportingHostBuilder } from '../pipeline/reporting-builder.js';
import type { Progress } from '../pipeline/progress.js';
import type { ImageSettings } from '../pipeline/image-settings.js';
import type { BuiltImage } from '../pipeline/built-image.js';
import { runBuild } from '../pipeline/run-build.js';
import { startProxy, type ProxyRecord, type RegistryProxy } from './support/proxy.js';
import { startRegistry, type RegistryHarness } from './support/registry.js';
import { exampleRepository, removeDirectory, temporaryDirectory } from './support/workspace.js';
import { found } from '../common/found.js';

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

/** The host's go build, the last target's binary held back until the registry sees a request `seen` matches. */
function lastTargetHeldUntil(dist: string, order: string[], seen: (record: ProxyRecord) => boolean): Builder {
  const host = reportingHostBuilder({ dist, jobs: () => 4, cache: false }, quiet);
  return {
    async build(plan, onBinary) {
      const last = plan.targets.at(-1);
      const held: Binary<string>[] = [];
      const staged = await host.build(plan, (binary) => {
        if (binary.target === last) held.push(binary);
        else onBinary?.(binary);
      });
      const request = await proxy.seen(seen);
      order.push(`${request.method} ${request.path}`);
      order.push('last target built');
      for (const binary of held) onBinary?.(binary);
      return staged;
    },
  };
}

const blobUploaded = (record: ProxyRecord): boolean => record.method === 'PUT' && record.url.includes('digest=');
const uploadedDigest = (record: ProxyRecord | undefined): string =>
  decodeURIComponent(/digest=([^&]+)/.exec(record?.url ?? '')?.[1] ?? '');
const manifestByDigest = (record: ProxyRecord): boolean =>
  record.method === 'PUT' && record.path.includes('/manifests/sha256:');
const reference = (record: ProxyRecord): string => record.path.split('/manifests/')[1] ?? '';

/** A platform manifest's config and layers, by digest. */
async function manifestBlobs(repository: string, digest: string): Promise<string[]> {
  const response = await fetch(`${registry.url}/v2/${repository}/manifests/${digest}`, {
    headers: { Accept: 'application/vnd.oci.image.manifest.v1+json' },
  });
  const manifest = (await response.json()) as { config: { digest: string }; layers: { digest: string }[] };
  return [manifest.config.digest, ...manifest.layers.map((layer) => layer.digest)];
}

/** A 3-platform build of the example pushed to `push`, the last target held by `builder`. */
async function heldBuild(push: string, builder: Builder, base?: string): Promise<BuiltImage> {
  const images = await runBuild({
    compile: {
      packages: [repo],
      config: undefined,
      platforms: PLATFORMS,
      version: '1.2.3',
      buildvcs: 'false',
      env: process.env,
    },
    settings: { dist: join(work, 'dist-held'), format: 'oci', sbom: 'none', push, ...(base ? { base } : {}) },
    builder,
    progress: quiet,
    registry: { insecureRegistries: [], verbose: undefined },
  });
  return found(images?.[0], 'the built image');
}

describe('a 3-platform build --push', () => {
  test("uploads an earlier platform's blobs before the last target's go build ends", async () => {
    const order: string[] = [];
    proxy.reset();
    const image = await heldBuild(
      `${proxy.host}/pipe/hello`,
      lastTargetHeldUntil(join(work, 'dist-held'), order, blobUploaded),
      'scratch',
    );
    assert.equal(order.at(-1), 'last target built');
    assert.deepEqual(
      image.platforms.map((platform) => platform.platform),
      PLATFORMS,
    );
    // On scratch, an image's blobs are its config and its binaries layer: the blob the last target waited for is
    // one of the first two platforms'.
    const held = proxy.records.find(blobUploaded);
    const earlier = await Promise.all(
      image.platforms.slice(0, 2).map(async (platform) => manifestBlobs('pipe/hello', platform.digest)),
    );
    assert.ok(
      earlier.flat().includes(uploadedDigest(held)),
      `${uploadedDigest(held)} is not in ${earlier.flat().join(', ')}`,
    );
  });

  test("puts an earlier platform's manifest before the last target's go build ends; each platform's once, the tags after all", async () => {
    // New layers (a cache of its own), so each platform's whole image goes up as soon as its binary is there.
    process.env.GOCI_CACHE_DIR = join(work, 'cache-manifests');
    const order: string[] = [];
    proxy.reset();
    const image = await heldBuild(
      `${proxy.host}/pipe/early`,
      lastTargetHeldUntil(join(work, 'dist-held'), order, manifestByDigest),
    );
    assert.equal(order.at(-1), 'last target built');
    const early = order[0]?.replace(/^PUT \/v2\/pipe\/early\/manifests\//, '') ?? '';
    assert.ok(
      image.platforms.slice(0, 2).some((platform) => platform.digest === early),
      `${order[0]}`,
    );
    const puts = proxy.records.filter((record) => record.method === 'PUT' && record.path.includes('/manifests/'));
    const platformPuts = puts.filter(manifestByDigest).map(reference);
    assert.deepEqual([...platformPuts].sort(), image.platforms.map((platform) => platform.digest).sort());
    const tagPuts = puts.filter((record) => !manifestByDigest(record));
    assert.deepEqual(tagPuts.map(reference).sort(), [...image.tags].sort());
    assert.ok(puts.indexOf(tagPuts[0]!) > puts.indexOf(puts.filter(manifestByDigest).at(-1)!));
  });
});

/** One build of `source` with the host's go build; `cache` is the GOCI_CACHE_DIR it runs with. */
async function hostBuild(source: string, cache: string, settings: Partial<ImageSettings>): Promise<BuiltImage> {
  process.env.GOCI_CACHE_DIR = cache;
  const dist = join(work, `dist-${++builds}`);
  const images = await runBuild({
    compile: {
      packages: [source],
      config: undefined,
      platforms: PLATFORMS,
      version: '1.2.3',
      buildvcs: 'false',
      env: process.env,
    },
    settings: { format: 'oci', sbom: 'none', ...settings, dist },
    builder: reportingHostBuilder({ dist, jobs: () => 4, cache: true }, quiet),
    progress: quiet,
    registry: { insecureRegistries: [], verbose: undefined },
  });
  return found(images?.[0], 'the built image');
}
let builds = 0;

/** The digests of the layers compressed while `work` runs, in the order they were written. */
async function compressedDuring(work: () => Promise<unknown>): Promise<string[]> {
  const written: string[] = [];
  const listener = (message: unknown): void => {
    written.push((message as { digest: string }).digest);
  };
  subscribe('goci:layer-written', listener);
  try {
    await work();
  } finally {
    unsubscribe('goci:layer-written', listener);
  }
  return written;
}

describe('layers across sinks', () => {
  test('each layer is compressed once per build however many sinks take it: registry, OCI layout, tarball', async () => {
    let image: BuiltImage | undefined;
    const written = await compressedDuring(async () => {
      image = await hostBuild(repo, join(work, 'cache-sinks'), {
        push: `${registry.host}/sinks/hello`,
        ociLayout: join(work, 'sinks-layout'),
        tarball: join(work, 'sinks.tar'),
      });
    });
    const layers = new Set<string>();
    for (const platform of found(image, 'the image').platforms)
      for (const layer of (await manifestBlobs('sinks/hello', platform.digest)).slice(1)) layers.add(layer);
    // The base layer once for every platform, a binaries layer per platform: each written once, nothing else.
    assert.equal(layers.size, PLATFORMS.length + 1);
    assert.deepEqual([...written].sort(), [...layers].sort());
  });

  test('a second build of the same source compresses nothing: every layer comes from the cache', async () => {
    const cache = join(work, 'cache-again');
    await hostBuild(repo, cache, { push: `${registry.host}/again/hello` });
    const written = await compressedDuring(() =>
      hostBuild(repo, cache, { push: `${registry.host}/again/hello`, ociLayout: join(work, 'again-layout') }),
    );
    assert.deepEqual(written, []);
  });
});

describe('the same index, however it was built', () => {
  test('pushing early gives the index digest run after run, from a second clone with a cold cache, and of a layout-only build', async () => {
    const second = await exampleRepository('hello', 'pipelining-second');
    try {
      const first = await hostBuild(repo, join(work, 'cache-first'), { push: `${registry.host}/same/first` });
      const rerun = await hostBuild(repo, join(work, 'cache-first'), { push: `${registry.host}/same/first` });
      const clone = await hostBuild(second, join(work, 'cache-second'), { push: `${registry.host}/same/second` });
      const layout = await hostBuild(second, join(work, 'cache-layout'), { ociLayout: join(work, 'same-layout') });
      assert.equal(rerun.index.digest, first.index.digest);
      assert.equal(clone.index.digest, first.index.digest);
      assert.equal(layout.index.digest, first.index.digest);
    } finally {
      await removeDirectory(second);
    }
  });
});
