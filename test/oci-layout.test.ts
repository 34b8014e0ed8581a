import assert from 'node:assert/strict';
import { readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { execa } from 'execa';
import { imageIndex, type ImageManifest } from '../oci/manifest.js';
import { REF_NAME, layoutBlobDir, tagInLayout, writeJsonBlob } from '../oci/layout.js';
import { goci } from './support/goci.js';
import { helloImage } from './support/hello-image.js';
import { removeDirectory, temporaryDirectory } from './support/workspace.js';

const PLATFORMS = ['linux/amd64', 'linux/arm64', 'linux/arm/v7'];
const EPOCH = 1714564800;

let work: string;
let layout: string;
let images: ImageManifest[];
let indexDigest: string;

before(async () => {
  work = await temporaryDirectory('layout');
  layout = join(work, 'oci');
  const compiled = await goci([
    'compile',
    'examples/hello',
    '--platform',
    PLATFORMS.join(','),
    '--version',
    '1.2.3',
    '--dist',
    join(work, 'dist'),
  ]);
  assert.equal(compiled.exitCode, 0, compiled.stderr);
  images = [];
  for (const platform of PLATFORMS) images.push(await helloImage(join(work, 'dist'), layout, platform, EPOCH));
  const index = imageIndex('oci', images, { 'org.opencontainers.image.version': '1.2.3' });
  await writeJsonBlob(layout, index);
  indexDigest = index.digest;
  await tagInLayout(
    layout,
    { mediaType: 'application/vnd.oci.image.index.v1+json', digest: index.digest, size: index.size },
    '1.2.3',
  );
  await tagInLayout(layout, images[0]!.descriptor, 'amd64-only');
});
after(async () => removeDirectory(work));

describe("an OCI layout assembled from goci's image parts", () => {
  test('skopeo reads the tag as an index with the three platforms', async () => {
    const { stdout } = await execa('skopeo', ['inspect', '--raw', `oci:${layout}:1.2.3`]);
    const index = JSON.parse(stdout) as { manifests: { digest: string; platform: unknown }[] };
    assert.deepEqual(
      index.manifests.map((entry) => entry.platform),
      [
        { architecture: 'amd64', os: 'linux' },
        { architecture: 'arm64', os: 'linux' },
        { architecture: 'arm', os: 'linux', variant: 'v7' },
      ],
    );
    assert.deepEqual(
      index.manifests.map((entry) => entry.digest),
      images.map((entry) => entry.manifest.digest),
    );
  });

  test('oci-image-tool validates the layout by its tag', async () => {
    const result = await execa('oci-image-tool', ['validate', '--type', 'image', '--ref', 'name=amd64-only', layout], {
      reject: false,
    });
    assert.equal(result.exitCode, 0, `${result.stdout}\n${result.stderr}`);
  });

  test('umoci unpacks the binary at /usr/local/bin/hello, mode 0755, owned by root', async () => {
    const bundle = join(work, 'bundle');
    await execa('umoci', ['unpack', '--image', `${layout}:amd64-only`, bundle]);
    const info = await stat(join(bundle, 'rootfs', 'usr', 'local', 'bin', 'hello'));
    assert.equal(info.mode & 0o7777, 0o755);
    assert.deepEqual([info.uid, info.gid], [0, 0]);
    const { stdout } = await execa(join(bundle, 'rootfs', 'usr', 'local', 'bin', 'hello'));
    assert.equal(stdout.split('\n')[0], '1.2.3 linux amd64');
  });

  test('a second tag keeps the first, and index.json names both', async () => {
    const index = JSON.parse(await readFile(join(layout, 'index.json'), 'utf8')) as {
      manifests: { digest: string; annotations: Record<string, string> }[];
    };
    assert.deepEqual(
      index.manifests.map((entry) => [entry.annotations[REF_NAME], entry.digest]),
      [
        ['1.2.3', indexDigest],
        ['amd64-only', images[0]!.manifest.digest],
      ],
    );
  });

  test('every blob is stored once under its digest: 3 layers, 3 configs, 3 manifests, 1 index', async () => {
    assert.equal((await readdir(layoutBlobDir(layout))).length, 10);
  });
});
