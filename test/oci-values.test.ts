import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import { GociError } from '../common/errors.js';
import { readLayoutIndexValue } from '../oci/layout-index.js';
import type { Index } from '../oci/index.js';
import type { Layer } from '../oci/layer.js';
import { helloLayout } from './support/layout-fixture.js';
import { removeDirectory, temporaryDirectory } from './support/workspace.js';

let work: string;
let repo: string;
let index: Index;

async function sha256Of(layer: Layer): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of layer.open()) hash.update(chunk as Buffer);
  return `sha256:${hash.digest('hex')}`;
}

before(async () => {
  work = await temporaryDirectory('oci-values');
  const env = { ...process.env, SOURCE_DATE_EPOCH: '1714564800', GOCI_CACHE_DIR: `${work}/cache` };
  const built = await helloLayout(work, env);
  repo = built.repo;
  index = await readLayoutIndexValue(built.layout, '1.2.3');
});
after(() => Promise.all([work, repo].map(removeDirectory)));

describe('oci values read back from a layout goci build wrote', () => {
  test('the index keeps its media type, and each layer its diff_id from the config', () => {
    assert.equal(index.descriptor.mediaType, 'application/vnd.oci.image.index.v1+json');
    assert.equal(index.images.length, 1);
    const [image] = index.images;
    const config = JSON.parse(image!.config.bytes.toString()) as { rootfs: { diff_ids: string[] } };
    assert.deepEqual(
      image!.layers.map((layer) => layer.diffId),
      config.rootfs.diff_ids,
    );
  });

  test('a layer opens as the bytes its descriptor names', async () => {
    for (const layer of index.images[0]!.layers) assert.equal(await sha256Of(layer), layer.descriptor.digest);
  });

  test('a layer whose blob was changed fails to read with DIGEST_MISMATCH', async () => {
    const layer = index.images[0]!.layers.at(-1)!;
    await writeFile(index.store.file(layer.descriptor.digest), 'not the layer');
    await assert.rejects(
      sha256Of(layer),
      (error: unknown) => error instanceof GociError && error.code === 'DIGEST_MISMATCH',
    );
  });

  test('a layer whose blob is gone fails to read with NOT_FOUND', async () => {
    const layer = index.images[0]!.layers[0]!;
    await rm(index.store.file(layer.descriptor.digest));
    await assert.rejects(sha256Of(layer), (error: unknown) => error instanceof GociError && error.code === 'NOT_FOUND');
  });
});
