import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { execa } from 'execa';
import { parsePlatform } from '../compiler/platform.js';
import { canonicalJson, jsonBlob, sha256Digest } from '../oci/descriptor.js';
import { EMPTY_RUNTIME, imageConfig, type ImageConfigInput } from '../oci/image-config.js';
import { imageIndex, imageManifest } from '../oci/manifest.js';
import { ociPlatform } from '../oci/platform.js';
import { removeDirectory, temporaryDirectory } from './support/workspace.js';

const DIFF_ID = `sha256:${'a'.repeat(64)}`;
const LAYER = {
  mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip',
  digest: `sha256:${'b'.repeat(64)}`,
  size: 1234,
};

const INPUT: ImageConfigInput = {
  platform: ociPlatform(parsePlatform('linux/arm/v7')),
  runtime: {
    entrypoint: ['/usr/local/bin/hello'],
    cmd: ['--help'],
    env: ['PATH=/usr/local/bin:/usr/bin:/bin', 'SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt'],
    user: '65532',
    workingDir: '/home/nonroot',
    exposedPorts: ['8080/tcp'],
    volumes: [],
    stopSignal: 'SIGTERM',
    labels: { 'org.opencontainers.image.version': '1.2.3' },
  },
  layers: [{ diffId: DIFF_ID, createdBy: 'goci: binary hello', comment: 'goci' }],
  created: 1714564800,
};

const made: string[] = [];
after(async () => Promise.all(made.map(removeDirectory)));

/** oci-image-tool's verdict on one document, as its own exit code and output. */
async function ociValidate(type: string, value: unknown): Promise<void> {
  const dir = await temporaryDirectory('oci-doc');
  made.push(dir);
  const file = join(dir, `${type}.json`);
  await writeFile(file, canonicalJson(value));
  const result = await execa('oci-image-tool', ['validate', '--type', type, file], { reject: false });
  assert.equal(result.exitCode, 0, `${result.stdout}\n${result.stderr}`);
}

describe('image documents', () => {
  test('canonical JSON sorts keys at every level and has no whitespace', () => {
    assert.equal(
      canonicalJson({ b: 1, a: { d: [{ z: 1, y: 2 }], c: null } }),
      '{"a":{"c":null,"d":[{"y":2,"z":1}]},"b":1}',
    );
  });

  test('the digest is sha256 of exactly the serialised bytes', () => {
    const blob = jsonBlob({ b: 1, a: 2 });
    assert.equal(blob.bytes.toString(), '{"a":2,"b":1}');
    assert.equal(blob.digest, sha256Digest(Buffer.from('{"a":2,"b":1}')));
    assert.equal(blob.size, 13);
  });

  test('an image config carries platform, runtime settings, diff_ids and one history entry per layer', () => {
    assert.deepEqual(imageConfig(INPUT), {
      created: '2024-05-01T12:00:00Z',
      architecture: 'arm',
      os: 'linux',
      variant: 'v7',
      config: {
        User: '65532',
        ExposedPorts: { '8080/tcp': {} },
        Env: ['PATH=/usr/local/bin:/usr/bin:/bin', 'SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt'],
        Entrypoint: ['/usr/local/bin/hello'],
        Cmd: ['--help'],
        WorkingDir: '/home/nonroot',
        Labels: { 'org.opencontainers.image.version': '1.2.3' },
        StopSignal: 'SIGTERM',
      },
      rootfs: { type: 'layers', diff_ids: [DIFF_ID] },
      history: [{ created: '2024-05-01T12:00:00Z', created_by: 'goci: binary hello', comment: 'goci' }],
    });
  });

  test('unset runtime settings are left out, not written empty', () => {
    const config = imageConfig({
      ...INPUT,
      runtime: { ...EMPTY_RUNTIME },
    });
    assert.deepEqual(config.config, {});
  });

  test('oci-image-tool accepts the config, the manifest and the index', async () => {
    const config = jsonBlob(imageConfig(INPUT));
    const image = imageManifest('oci', INPUT.platform, config, [LAYER], {
      'org.opencontainers.image.version': '1.2.3',
    });
    await ociValidate('config', JSON.parse(config.bytes.toString()));
    await ociValidate('manifest', JSON.parse(image.manifest.bytes.toString()));
    await ociValidate('imageIndex', JSON.parse(imageIndex('oci', [image], {}).bytes.toString()));
  });

  test('the index lists each manifest with its platform, variant included', () => {
    const config = jsonBlob(imageConfig(INPUT));
    const arm = imageManifest('oci', ociPlatform(parsePlatform('linux/arm/v7')), config, [LAYER], {});
    const amd = imageManifest('oci', ociPlatform(parsePlatform('linux/amd64/v3')), config, [LAYER], {});
    const index = JSON.parse(
      imageIndex('oci', [arm, amd], { 'org.opencontainers.image.version': '1.2.3' }).bytes.toString(),
    );
    assert.deepEqual(
      index.manifests.map((entry: { platform: unknown }) => entry.platform),
      [
        { architecture: 'arm', os: 'linux', variant: 'v7' },
        { architecture: 'amd64', os: 'linux', variant: 'v3' },
      ],
    );
    assert.equal(index.manifests[0].digest, arm.manifest.digest);
    assert.equal(index.manifests[0].size, arm.manifest.size);
    assert.deepEqual(index.annotations, { 'org.opencontainers.image.version': '1.2.3' });
  });

  test('the Docker format uses schema 2 media types and no annotations', () => {
    const config = jsonBlob(imageConfig(INPUT));
    const image = imageManifest('docker', INPUT.platform, config, [LAYER], {
      'org.opencontainers.image.version': '1.2.3',
    });
    const manifest = JSON.parse(image.manifest.bytes.toString());
    assert.equal(manifest.mediaType, 'application/vnd.docker.distribution.manifest.v2+json');
    assert.equal(manifest.config.mediaType, 'application/vnd.docker.container.image.v1+json');
    assert.equal(manifest.layers[0].mediaType, 'application/vnd.docker.image.rootfs.diff.tar.gzip');
    assert.equal(manifest.annotations, undefined);
  });

  test('amd64/v1 and arm64/v8 carry no variant in the OCI platform', () => {
    assert.deepEqual(ociPlatform(parsePlatform('linux/amd64/v1')), { architecture: 'amd64', os: 'linux' });
    assert.deepEqual(ociPlatform(parsePlatform('linux/arm64/v8')), { architecture: 'arm64', os: 'linux' });
  });
});
