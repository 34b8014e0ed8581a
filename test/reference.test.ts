import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { formatReference, parseReference, registryScheme } from '../registry/reference.js';
import { releaseTags } from '../registry/tags.js';

describe('image references', () => {
  test('a registry with a port, a nested repository, a tag', () => {
    assert.deepEqual(parseReference('127.0.0.1:5000/acme/api:1.2.3'), {
      registry: '127.0.0.1:5000',
      repository: 'acme/api',
      tag: '1.2.3',
      digest: undefined,
    });
  });

  test('Docker Hub: no registry, and one-part names live under library/', () => {
    assert.deepEqual(parseReference('alpine'), {
      registry: 'registry-1.docker.io',
      repository: 'library/alpine',
      tag: undefined,
      digest: undefined,
    });
    assert.deepEqual(parseReference('docker.io/acme/api:v1'), {
      registry: 'registry-1.docker.io',
      repository: 'acme/api',
      tag: 'v1',
      digest: undefined,
    });
    assert.equal(formatReference(parseReference('index.docker.io/library/alpine')), 'docker.io/library/alpine');
  });

  test('localhost and a digest', () => {
    const digest = `sha256:${'a'.repeat(64)}`;
    assert.deepEqual(parseReference(`localhost/api@${digest}`), {
      registry: 'localhost',
      repository: 'api',
      tag: undefined,
      digest,
    });
  });

  test('tag and digest together', () => {
    const digest = `sha256:${'b'.repeat(64)}`;
    assert.equal(
      formatReference(parseReference(`gcr.io/distroless/static-debian12:nonroot@${digest}`)),
      `gcr.io/distroless/static-debian12:nonroot@${digest}`,
    );
  });

  test('a tag with invalid characters is refused, naming the tag', () => {
    assert.throws(() => parseReference('ghcr.io/acme/api:1.2.3+build'), {
      code: 'BAD_ARGUMENT',
      message:
        "\"ghcr.io/acme/api:1.2.3+build\" is not an image reference: the tag \"1.2.3+build\" has invalid characters (letters, digits, '_', '.', '-'; at most 128; not starting with '.' or '-')",
    });
  });

  test('uppercase repository names and bad digests are refused', () => {
    assert.throws(() => parseReference('ghcr.io/Acme/api'), { code: 'BAD_ARGUMENT' });
    assert.throws(() => parseReference('ghcr.io/acme/api@sha256:123'), { code: 'BAD_ARGUMENT' });
    assert.throws(() => parseReference(''), { code: 'BAD_ARGUMENT' });
  });

  test('plain HTTP only for loopback or a named insecure registry', () => {
    assert.equal(registryScheme('127.0.0.1:5000', []), 'http');
    assert.equal(registryScheme('localhost:5000', []), 'http');
    assert.equal(registryScheme('[::1]:5000', []), 'http');
    assert.equal(registryScheme('registry.internal:5000', []), 'https');
    assert.equal(registryScheme('registry.internal:5000', ['registry.internal:5000']), 'http');
  });
});

describe('release tags', () => {
  test('a release publishes the version, minor, major and latest', () => {
    assert.deepEqual(releaseTags('1.2.3'), ['1.2.3', '1.2', '1', 'latest']);
  });

  test("a version written with the tag's v publishes every tag with it", () => {
    assert.deepEqual(releaseTags('v1.6.20'), ['v1.6.20', 'v1.6', 'v1', 'latest']);
    assert.deepEqual(releaseTags('v1.6.20-1-g218db27'), ['v1.6.20-1-g218db27']);
  });

  test('a pre-release publishes only itself', () => {
    assert.deepEqual(releaseTags('1.3.0-rc.1'), ['1.3.0-rc.1']);
  });

  test('build metadata publishes only itself, with + made -', () => {
    assert.deepEqual(releaseTags('1.2.4-dev.3+g1a2b3c4'), ['1.2.4-dev.3-g1a2b3c4']);
    assert.deepEqual(releaseTags('2.0.0+dirty'), ['2.0.0-dirty']);
  });
});
