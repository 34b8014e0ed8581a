import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { GociError } from '../common/errors.js';
import { parsePlatform } from '../compiler/platform.js';
import { provenanceArg, recordedBuildArgs, sbomFormatArg, sbomSubjectName } from '../frontend/attestations.js';
import { baseAnnotationMetadata, type RemoteBaseInBuildKit } from '../frontend/remote-base.js';
import { readBaseConfig, remoteBaseRuntime } from '../images/base/remote.js';

const DIGEST = `sha256:${'a'.repeat(64)}`;
const BASE: RemoteBaseInBuildKit = {
  name: '127.0.0.1:5000/base:1',
  digest: DIGEST,
  runtime: { env: [], user: '', workingDir: '' },
  platforms: new Map(),
};
const text = (metadata: Record<string, Uint8Array>): Record<string, string> =>
  Object.fromEntries(Object.entries(metadata).map(([key, value]) => [key, new TextDecoder().decode(value)]));

describe("a registry base's annotations in the frontend's result", () => {
  test('an index gets the base name and the digest the reference resolved to; each manifest the name', () => {
    assert.deepEqual(text(baseAnnotationMetadata(BASE, true)), {
      'annotation-manifest.org.opencontainers.image.base.name': '127.0.0.1:5000/base:1',
      'annotation-index.org.opencontainers.image.base.name': '127.0.0.1:5000/base:1',
      'annotation-index.org.opencontainers.image.base.digest': DIGEST,
    });
  });

  test('a single manifest (no index to annotate) gets the base name only', () => {
    assert.deepEqual(text(baseAnnotationMetadata(BASE, false)), {
      'annotation-manifest.org.opencontainers.image.base.name': '127.0.0.1:5000/base:1',
    });
  });
});

describe("a base image's config, as both doors read it", () => {
  const config = {
    os: 'linux',
    architecture: 'arm64',
    config: {
      Env: ['PATH=/bin', 'A=1'],
      User: '65532',
      WorkingDir: '/w',
      Entrypoint: ['/base'],
      ExposedPorts: { '80/tcp': {} },
      Labels: { x: 'y' },
    },
    rootfs: { type: 'layers', diff_ids: [DIGEST] },
    history: [{ created_by: 'base layer' }],
  };
  const bytes = new TextEncoder().encode(JSON.stringify(config));

  test('keeps diff_ids, history and the runtime settings', () => {
    assert.deepEqual(readBaseConfig(bytes, parsePlatform('linux/arm64'), 'base'), {
      diffIds: [DIGEST],
      history: [{ created_by: 'base layer' }],
      env: ['PATH=/bin', 'A=1'],
      user: '65532',
      workingDir: '/w',
      entrypoint: ['/base'],
      cmd: undefined,
      exposedPorts: ['80/tcp'],
      labels: { x: 'y' },
    });
  });

  test('refuses a config of another platform than the one asked for', () => {
    assert.throws(
      () => readBaseConfig(bytes, parsePlatform('linux/amd64'), 'base'),
      (error: unknown) =>
        error instanceof GociError &&
        error.code === 'BAD_PLATFORM' &&
        error.message === 'base image base: the manifest listed for linux/amd64 is linux/arm64',
    );
  });

  test("the image starts from the first platform's env, user and working directory", () => {
    assert.deepEqual(
      remoteBaseRuntime([
        { env: ['A=1'], user: '1', workingDir: '/one' },
        { env: ['A=2'], user: '2', workingDir: '/two' },
      ]),
      { env: ['A=1'], user: '1', workingDir: '/one' },
    );
  });
});

describe('the SBOM the frontend attaches', () => {
  test('is SPDX unless build arg SBOM says cyclonedx or none', () => {
    assert.equal(sbomFormatArg({}), 'spdx');
    assert.equal(sbomFormatArg({ SBOM: 'cyclonedx' }), 'cyclonedx');
    assert.equal(sbomFormatArg({ SBOM: 'none' }), undefined);
    assert.throws(
      () => sbomFormatArg({ SBOM: 'syft' }),
      (error: unknown) =>
        error instanceof GociError &&
        error.code === 'BAD_ARGUMENT' &&
        error.message === 'build arg SBOM: "syft" is not an SBOM format',
    );
  });

  test('names the image as goci build names one it does not push: repository and version tag', () => {
    assert.equal(sbomSubjectName('server', '1.2.3+dirty'), 'server:1.2.3-dirty');
  });
});

describe('the provenance the frontend attaches', () => {
  test('only when build arg PROVENANCE is true; any other word is refused', () => {
    assert.equal(provenanceArg({}), false);
    assert.equal(provenanceArg({ PROVENANCE: 'false' }), false);
    assert.equal(provenanceArg({ PROVENANCE: 'true' }), true);
    assert.throws(
      () => provenanceArg({ PROVENANCE: 'yes' }),
      (error: unknown) =>
        error instanceof GociError && error.message === 'build arg PROVENANCE: "yes" is neither true nor false',
    );
  });

  test("records goci's own build args as given, and no other build arg", () => {
    assert.deepEqual(recordedBuildArgs({ VERSION: '1.2.3', BASE: 'static', NPM_TOKEN: 'secret', REVISION: '' }), {
      BASE: 'static',
      VERSION: '1.2.3',
    });
  });
});
