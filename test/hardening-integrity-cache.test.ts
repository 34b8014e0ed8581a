import assert from 'node:assert/strict';
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { goci } from './support/goci.js';
import { badBlobs, blobNames, corruptInPlace, fileSha256 } from './support/integrity.js';
import { exampleRepository, removeDirectory, temporaryDirectory } from './support/workspace.js';

// Issue 10, break 5: the layer and binary caches can never serve wrong bytes.

const made: string[] = [];
let repo: string;

before(async () => {
  repo = await exampleRepository('hello', 'integrity-cache');
  made.push(repo);
});
after(async () => Promise.all(made.map(removeDirectory)));

async function freshCache(): Promise<string> {
  const dir = await temporaryDirectory('integrity-cache-dir');
  made.push(dir);
  return dir;
}

function envWith(cache: string): NodeJS.ProcessEnv {
  return { ...process.env, SOURCE_DATE_EPOCH: '1714564800', GOCI_CACHE_DIR: cache };
}

interface BuildJson {
  images: { index: { digest: string } }[];
}

async function build(cache: string, layout: string): Promise<{ json: BuildJson; stderr: string }> {
  const args = ['build', '.', '--platform', 'linux/amd64', '--version', '1.0.0', '--sbom', 'none'];
  args.push('--progress', 'plain', '--json', '--oci-layout', layout);
  const result = await goci(args, { cwd: repo, env: envWith(cache) });
  assert.equal(result.exitCode, 0, result.stderr);
  return { json: JSON.parse(result.stdout) as BuildJson, stderr: result.stderr };
}

async function cachedLayerBlobs(cache: string): Promise<string[]> {
  return (await readdir(join(cache, 'layers'))).filter((name) => /^[0-9a-f]{64}$/.test(name)).sort();
}

describe('the layer cache never serves wrong bytes', () => {
  test('a same-size corrupted cached layer is evicted with a warning and rebuilt: the layout verifies', async () => {
    const cache = await freshCache();
    const first = await build(cache, join(repo, 'dist', 'first'));
    const cached = await cachedLayerBlobs(cache);
    assert.equal(cached.length, 2);
    for (const name of cached) await corruptInPlace(join(cache, 'layers', name));

    const second = await build(cache, join(repo, 'dist', 'second'));
    assert.equal(second.json.images[0]!.index.digest, first.json.images[0]!.index.digest);
    assert.deepEqual(await badBlobs(join(repo, 'dist', 'second')), []);
    const warnings = second.stderr.split('\n').filter((line) => line.startsWith('goci: warning: cached layer'));
    const expected = cached.map(
      (name) =>
        `goci: warning: cached layer sha256:${name} in ${cache}/layers did not match its digest; ` +
        'removed it, rebuilding the layer',
    );
    assert.deepEqual(warnings.sort(), expected.sort());
    // The cache holds good bytes again.
    for (const name of await cachedLayerBlobs(cache)) assert.equal(await fileSha256(join(cache, 'layers', name)), name);
  });

  test('a layout shares no inode with the cache: damaging the cache afterwards leaves the layout intact', async () => {
    const cache = await freshCache();
    const layout = join(repo, 'dist', 'no-shared-inode');
    await build(cache, layout);
    for (const name of await cachedLayerBlobs(cache)) await corruptInPlace(join(cache, 'layers', name));
    assert.deepEqual(await badBlobs(layout), []);
  });

  test('a same-size corrupted layer already in the layout is replaced by the next build into it', async () => {
    const cache = await freshCache();
    const layout = join(repo, 'dist', 'damaged-layout');
    await build(cache, layout);
    const blob = async (digest: string): Promise<any> =>
      JSON.parse(await readFile(join(layout, 'blobs', 'sha256', digest.slice(7)), 'utf8'));
    const top = JSON.parse(await readFile(join(layout, 'index.json'), 'utf8')) as { manifests: { digest: string }[] };
    const index = (await blob(top.manifests[0]!.digest)) as { manifests: { digest: string }[] };
    const manifest = (await blob(index.manifests[0]!.digest)) as { layers: { digest: string }[] };
    for (const layer of manifest.layers) {
      // A new file with the old size (the cache's inode is not touched).
      const path = join(layout, 'blobs', 'sha256', layer.digest.slice(7));
      const size = (await readFile(path)).length;
      await rm(path);
      await writeFile(path, Buffer.alloc(size, 0x41));
    }
    assert.equal((await badBlobs(layout)).length, manifest.layers.length);
    const blobsBefore = await blobNames(layout);

    await build(cache, layout);
    assert.deepEqual(await badBlobs(layout), []);
    assert.deepEqual(await blobNames(layout), blobsBefore);
  });
});

interface CompileJson {
  binaries: { sha256: string; path: string; cached: boolean }[];
}

describe('the binary cache never serves wrong bytes', () => {
  test('a same-size corrupted cached binary is evicted with a warning and compiled again', async () => {
    const cache = await freshCache();
    const dist = join(repo, 'dist', 'binary-cache');
    const args = ['compile', '.', '--platform', 'linux/amd64', '--version', '1.0.0', '--json', '--dist', dist];
    const first = await goci(args, { cwd: repo, env: envWith(cache) });
    assert.equal(first.exitCode, 0, first.stderr);
    const [binary] = (JSON.parse(first.stdout) as CompileJson).binaries;
    await corruptInPlace(join(cache, 'binaries', binary!.sha256));

    const second = await goci(args, { cwd: repo, env: envWith(cache) });
    assert.equal(second.exitCode, 0, second.stderr);
    const [again] = (JSON.parse(second.stdout) as CompileJson).binaries;
    assert.deepEqual({ sha256: again!.sha256, cached: again!.cached }, { sha256: binary!.sha256, cached: false });
    assert.equal(await fileSha256(again!.path), binary!.sha256);
    assert.deepEqual(
      second.stderr.split('\n').filter((line) => line.startsWith('goci: warning:')),
      [
        `goci: warning: cached binary sha256:${binary!.sha256} in ${cache}/binaries did not match its digest; ` +
          'removed it, compiling again',
      ],
    );
    assert.equal(await fileSha256(join(cache, 'binaries', binary!.sha256)), binary!.sha256);
  });
});
