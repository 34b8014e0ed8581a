import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { GociError } from '../common/errors.js';
import { RegistryClient, type RegistryClientOptions } from '../registry/client.js';
import {
  addQuery,
  backoffDelay,
  DEFAULT_RETRY,
  parseRetryAfter,
  redactUrl,
  resolveLocation,
  retryDelay,
} from '../registry/http.js';
import { freePort, startRegistry, type RegistryHarness } from './support/registry.js';
import { startProxy, type RegistryProxy } from './support/proxy.js';
import { removeDirectory, temporaryDirectory } from './support/workspace.js';
import { found } from '../common/found.js';

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';
const OCI_LAYER = 'application/vnd.oci.image.layer.v1.tar+gzip';
const CHUNK_THRESHOLD = 100 * 1024;
const CHUNK_SIZE = 64 * 1024;

interface Blob {
  path: string;
  bytes: Buffer;
  digest: string;
  size: number;
}

function digestOf(bytes: Buffer): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

let work: string;
let blobCount = 0;

async function makeBlob(size: number): Promise<Blob> {
  const bytes = randomBytes(size);
  const path = join(work, `blob-${blobCount++}`);
  await writeFile(path, bytes);
  return { path, bytes, digest: digestOf(bytes), size };
}

describe('the registry client against docker-registry 2.8 (through a counting proxy)', () => {
  let registry: RegistryHarness;
  let proxy: RegistryProxy;
  let lines: string[] = [];

  const client = (options: Partial<RegistryClientOptions> = {}): RegistryClient =>
    new RegistryClient({
      registry: proxy.host,
      insecureRegistries: [],
      credential: null,
      chunkThreshold: CHUNK_THRESHOLD,
      chunkSize: CHUNK_SIZE,
      retry: { baseDelayMs: 20, maxDelayMs: 100 },
      verbose: (line) => lines.push(line),
      ...options,
    });

  /** Uploads a config and a layer and returns an OCI manifest of them, as pushed bytes. */
  async function pushImage(
    repo: string,
    tag: string,
    extra: Record<string, unknown> = {},
  ): Promise<{ bytes: Buffer; digest: string }> {
    const c = client();
    const config = await makeBlob(64);
    const layer = await makeBlob(1000);
    await c.uploadBlobFile(repo, config.digest, config.size, config.path);
    await c.uploadBlobFile(repo, layer.digest, layer.size, layer.path);
    const manifest = {
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: OCI_CONFIG, digest: config.digest, size: config.size },
      layers: [{ mediaType: OCI_LAYER, digest: layer.digest, size: layer.size }],
      ...extra,
    };
    const bytes = Buffer.from(JSON.stringify(manifest));
    const put = await c.putManifest(repo, tag, OCI_MANIFEST, bytes);
    return { bytes, digest: put.digest };
  }

  before(async () => {
    work = await temporaryDirectory('registry-client');
    registry = await startRegistry();
    proxy = await startProxy(registry.url);
  });

  after(async () => {
    await proxy?.stop();
    await registry?.stop();
    await removeDirectory(work);
  });

  const fresh = (): void => {
    proxy.reset();
    proxy.clearFaults();
    lines = [];
  };

  test('ping: GET /v2/ answers 200', async () => {
    fresh();
    await client().ping();
    assert.equal(proxy.count('GET', '/v2/'), 1);
    assert.deepEqual(lines, [`GET http://${proxy.host}/v2/ 200`]);
  });

  test('a refused connection fails at once, in one line naming host:port, with no retries', async () => {
    fresh();
    const port = await freePort();
    const started = Date.now();
    const error = await client({ registry: `127.0.0.1:${port}`, retry: { baseDelayMs: 1000 } })
      .ping()
      .catch((caught: unknown) => caught);
    assert.ok(error instanceof GociError);
    assert.equal(error.message, `cannot connect to 127.0.0.1:${port}: connection refused`);
    assert.equal(error.code, 'REGISTRY_UNREACHABLE');
    assert.ok(!error.message.includes('\n'));
    assert.ok(Date.now() - started < 900, 'no backoff before failing');
    assert.deepEqual(lines, []);
  });

  test('a small blob goes up as POST then one PUT ?digest= with the bytes', async () => {
    fresh();
    const blob = await makeBlob(5000);
    const c = client();
    assert.equal(await c.blobExists('test/mono', blob.digest), undefined);
    await c.uploadBlobFile('test/mono', blob.digest, blob.size, blob.path);
    assert.equal(proxy.count('POST', '/v2/*/blobs/uploads/'), 1);
    assert.equal(proxy.count('PUT', '/v2/*/blobs/uploads/*'), 1);
    assert.equal(proxy.count('PATCH', '/v2/*/blobs/uploads/*'), 0);
    assert.equal(proxy.bytes('PUT', '/v2/*/blobs/uploads/*').forwarded, 5000);
    const put = found(
      proxy.records.find((record) => record.method === 'PUT'),
      'a PUT request',
    );
    // The relative Location's _state query was kept, and the digest appended to it.
    assert.match(
      put.url,
      /^\/v2\/test\/mono\/blobs\/uploads\/[0-9a-f-]{36}\?_state=[^&]+&digest=sha256%3A[0-9a-f]{64}$/,
    );
    assert.equal(await c.blobExists('test/mono', blob.digest), 5000);
    assert.deepEqual(await c.fetchBlobBytes('test/mono', blob.digest, 10_000), blob.bytes);
  });

  test('verbose lines show method, URL with query values hidden, and status; never the upload state', async () => {
    fresh();
    const blob = await makeBlob(300);
    await client().uploadBlobFile('test/verbose', blob.digest, blob.size, blob.path);
    assert.equal(lines.length, 2);
    assert.match(lines[0]!, /^POST http:\/\/127\.0\.0\.1:\d+\/v2\/test\/verbose\/blobs\/uploads\/ 202$/);
    assert.match(
      lines[1]!,
      /^PUT http:\/\/127\.0\.0\.1:\d+\/v2\/test\/verbose\/blobs\/uploads\/[0-9a-f-]{36}\?_state=…&digest=… 201$/,
    );
    const put = found(
      proxy.records.find((record) => record.method === 'PUT'),
      'a PUT request',
    );
    const state = new URL(put.url, 'http://x').searchParams.get('_state')!;
    assert.ok(state.length > 20);
    assert.ok(lines.every((line) => !line.includes(state) && !line.includes(state.slice(0, 20))));
  });

  test('a blob above the chunk threshold goes up in PATCH chunks with Content-Range, then PUT ?digest=', async () => {
    fresh();
    const blob = await makeBlob(300 * 1024);
    const c = client();
    await c.uploadBlobFile('test/chunked', blob.digest, blob.size, blob.path);
    const patches = proxy.records.filter((record) => record.method === 'PATCH');
    assert.deepEqual(
      patches.map((record) => record.contentRange),
      ['0-65535', '65536-131071', '131072-196607', '196608-262143', '262144-307199'],
    );
    assert.deepEqual(
      patches.map((record) => record.forwardedBytes),
      [65536, 65536, 65536, 65536, 45056],
    );
    assert.equal(proxy.count('PUT', '/v2/*/blobs/uploads/*'), 1);
    assert.equal(proxy.bytes('PUT', '/v2/*/blobs/uploads/*').forwarded, 0);
    assert.equal(await c.blobExists('test/chunked', blob.digest), 307200);
    const out = join(work, 'chunked-out', 'blob');
    await c.fetchBlobToFile('test/chunked', blob.digest, blob.size, out);
    assert.deepEqual(await readFile(out), blob.bytes);
  });

  test('a PATCH cut off mid-chunk is resumed from the offset the registry reports (GET on the upload URL)', async () => {
    fresh();
    const blob = await makeBlob(300 * 1024);
    // The third chunk's connection drops after 10 000 bytes, before the registry saw any of it.
    proxy.addFault({
      method: 'PATCH',
      path: /\/blobs\/uploads\//,
      skip: 2,
      fault: { kind: 'drop-request', afterBytes: 10_000 },
    });
    const c = client();
    await c.uploadBlobFile('test/resume', blob.digest, blob.size, blob.path);
    const patches = proxy.records.filter((record) => record.method === 'PATCH');
    assert.deepEqual(
      patches.map((record) => [record.contentRange, record.status]),
      [
        ['0-65535', 202],
        ['65536-131071', 202],
        ['131072-196607', 0],
        ['131072-196607', 202],
        ['196608-262143', 202],
        ['262144-307199', 202],
      ],
    );
    assert.ok(patches[2]!.requestBytes >= 10_000);
    assert.equal(patches[2]!.forwardedBytes, 0);
    assert.equal(proxy.bytes('PATCH', '/v2/*/blobs/uploads/*').forwarded, 307200);
    // One status query, answered with the bytes the registry holds; one session throughout.
    const statuses = proxy.records.filter(
      (record) => record.method === 'GET' && record.pattern === 'GET /v2/*/blobs/uploads/*',
    );
    assert.deepEqual(
      statuses.map((record) => record.status),
      [204],
    );
    assert.equal(proxy.count('POST', '/v2/*/blobs/uploads/'), 1);
    assert.ok(lines.includes(`resuming upload of ${blob.digest} at byte 131072`));
    assert.equal(await c.blobExists('test/resume', blob.digest), 307200);
    assert.deepEqual(await c.fetchBlobBytes('test/resume', blob.digest, 400 * 1024), blob.bytes);
  });

  test('a PATCH cut after some bytes reached the registry: 2.8 rejects the old upload state, so the upload starts over', async () => {
    fresh();
    const blob = await makeBlob(300 * 1024);
    proxy.addFault({
      method: 'PATCH',
      path: /\/blobs\/uploads\//,
      skip: 1,
      fault: { kind: 'drop-request', afterBytes: 20_000, forwardPartial: true },
    });
    const c = client();
    await c.uploadBlobFile('test/restart', blob.digest, blob.size, blob.path);
    const statuses = proxy.records.filter((record) => record.pattern === 'GET /v2/*/blobs/uploads/*');
    assert.equal(statuses.length, 1);
    assert.equal(statuses[0]!.status, 404, 'BLOB_UPLOAD_INVALID: the state names an offset the upload has moved past');
    assert.equal(proxy.count('POST', '/v2/*/blobs/uploads/'), 2);
    assert.ok(lines.includes(`the registry lost the upload session of ${blob.digest}; starting it again`));
    assert.deepEqual(await c.fetchBlobBytes('test/restart', blob.digest, 400 * 1024), blob.bytes);
  });

  test('5xx answers are retried with backoff until one succeeds', async () => {
    fresh();
    const blob = await makeBlob(100);
    const c = client();
    await c.uploadBlobFile('test/retry', blob.digest, blob.size, blob.path);
    proxy.reset();
    lines = [];
    proxy.addFault({ method: 'HEAD', path: /\/blobs\//, times: 2, fault: { kind: 'status', status: 500 } });
    assert.equal(await c.blobExists('test/retry', blob.digest), 100);
    assert.deepEqual(
      proxy.records.map((record) => record.status),
      [500, 500, 200],
    );
    assert.equal(lines.filter((line) => /→ 500, retrying in \d+\.\d s \(\d\/5\)$/.test(line)).length, 2);
  });

  test('5xx that never stops: the error says what the registry answered, after the configured attempts', async () => {
    fresh();
    proxy.addFault({ method: 'GET', path: /\/manifests\//, times: 10, fault: { kind: 'status', status: 503 } });
    const error = await client({ retry: { attempts: 3, baseDelayMs: 10, maxDelayMs: 20 } })
      .getManifest('test/retry', 'nope', [OCI_MANIFEST])
      .catch((caught: unknown) => caught);
    assert.ok(error instanceof GociError);
    assert.equal(error.message, `${proxy.host}: GET manifest nope: the registry answered 503: UNKNOWN injected 503`);
    assert.equal(proxy.count('GET', '/v2/*/manifests/*'), 3);
  });

  test('a connection dropped before the answer is retried', async () => {
    fresh();
    const c = client();
    const { bytes } = await pushImage('test/dropped', 'v1');
    proxy.reset();
    lines = [];
    proxy.addFault({ method: 'GET', path: /\/manifests\//, fault: { kind: 'drop-request', afterBytes: 0 } });
    assert.deepEqual((await c.getManifest('test/dropped', 'v1', [OCI_MANIFEST])).bytes, bytes);
    assert.deepEqual(
      proxy.records.map((record) => record.status),
      [0, 200],
    );
    assert.equal(
      lines.filter((line) => / → \S.*, retrying in \d+\.\d s \(2\/5\)$/.test(line)).length,
      1,
      lines.join('\n'),
    );
  });

  test('a request that stalls is abandoned after the idle timeout and retried; the error says so', async () => {
    fresh();
    proxy.addFault({ method: 'GET', path: /^\/v2\/$/, times: 2, fault: { kind: 'stall' } });
    const started = Date.now();
    const error = await client({ timeoutMs: 200, retry: { attempts: 2, baseDelayMs: 10, maxDelayMs: 10 } })
      .ping()
      .catch((caught: unknown) => caught);
    assert.ok(error instanceof GociError);
    assert.equal(error.message, `${proxy.host}: GET /v2/: no progress for 0.2 s after 2 attempts`);
    assert.ok(Date.now() - started < 2000);
    assert.deepEqual(
      proxy.records.map((record) => record.fault),
      ['stall', 'stall'],
    );
  });

  test('a download cut mid-body is fetched again from the start, and verified', async () => {
    fresh();
    const blob = await makeBlob(200_000);
    const c = client();
    await c.uploadBlobFile('test/cut', blob.digest, blob.size, blob.path);
    proxy.reset();
    proxy.addFault({ method: 'GET', path: /\/blobs\/sha256:/, fault: { kind: 'drop-response', afterBytes: 70_000 } });
    const dir = join(work, 'cut');
    await c.fetchBlobToFile('test/cut', blob.digest, blob.size, join(dir, 'blob'));
    assert.deepEqual(
      proxy.records.map((record) => [record.status, record.responseBytes]),
      [
        [200, 70_000],
        [200, 200_000],
      ],
    );
    assert.deepEqual(await readdir(dir), ['blob']);
    assert.deepEqual(await readFile(join(dir, 'blob')), blob.bytes);
  });

  test('429 with Retry-After: 1 waits that second, then succeeds', async () => {
    fresh();
    proxy.addFault({
      method: 'GET',
      path: /^\/v2\/$/,
      fault: { kind: 'status', status: 429, headers: { 'retry-after': '1' } },
    });
    const started = Date.now();
    await client().ping();
    const waited = Date.now() - started;
    // At least the second asked for; no upper bound (a busy machine may be slow): the one retry is counted below.
    assert.ok(waited >= 990, `waited ${waited} ms`);
    assert.deepEqual(
      proxy.records.map((record) => record.status),
      [429, 200],
    );
    assert.ok(lines.includes(`GET http://${proxy.host}/v2/ → 429, retrying in 1.0 s (2/5)`));
  });

  test('Retry-After: seconds, HTTP-date, capped; backoff doubles with jitter', () => {
    const now = Date.parse('2024-05-01T12:00:00Z');
    assert.equal(parseRetryAfter('7', now), 7000);
    assert.equal(parseRetryAfter('Wed, 01 May 2024 12:00:30 GMT', now), 30_000);
    assert.equal(parseRetryAfter('Wed, 01 May 2024 11:00:00 GMT', now), 0);
    assert.equal(parseRetryAfter('soon', now), undefined);
    assert.equal(parseRetryAfter(null, now), undefined);
    assert.equal(retryDelay(0, DEFAULT_RETRY, 3_600_000), 60_000);
    assert.equal(retryDelay(0, { ...DEFAULT_RETRY, maxRetryAfterMs: 500 }, 2000), 500);
    assert.equal(
      backoffDelay(0, DEFAULT_RETRY, () => 0),
      125,
    );
    assert.equal(
      backoffDelay(0, DEFAULT_RETRY, () => 1),
      250,
    );
    assert.equal(
      backoffDelay(3, DEFAULT_RETRY, () => 1),
      2000,
    );
    assert.equal(
      backoffDelay(10, DEFAULT_RETRY, () => 1),
      8000,
    );
  });

  test('Location headers resolve against the request URL, keeping their query; digest is appended without re-encoding', () => {
    const base = 'http://127.0.0.1:5000/v2/a/b/blobs/uploads/';
    assert.equal(
      resolveLocation(base, '/v2/a/b/blobs/uploads/u1?_state=ab%2Bc%3D%3D'),
      'http://127.0.0.1:5000/v2/a/b/blobs/uploads/u1?_state=ab%2Bc%3D%3D',
    );
    assert.equal(resolveLocation(base, 'u2?_state=x'), 'http://127.0.0.1:5000/v2/a/b/blobs/uploads/u2?_state=x');
    assert.equal(resolveLocation(base, 'https://storage.example/up?sig=a%2Fb'), 'https://storage.example/up?sig=a%2Fb');
    assert.equal(
      addQuery('http://h/v2/u?_state=ab%2Bc%3D%3D', 'digest', 'sha256:00'),
      'http://h/v2/u?_state=ab%2Bc%3D%3D&digest=sha256%3A00',
    );
    assert.equal(addQuery('http://h/v2/u', 'digest', 'sha256:00'), 'http://h/v2/u?digest=sha256%3A00');
    assert.equal(redactUrl('http://h:1/v2/u?_state=secret&digest=sha256:1'), 'http://h:1/v2/u?_state=…&digest=…');
  });

  test('cross-repository mount: 201 → true; a blob the source lacks → 202, the started upload cancelled, false', async () => {
    fresh();
    const blob = await makeBlob(2000);
    const c = client();
    await c.uploadBlobFile('test/mount-from', blob.digest, blob.size, blob.path);
    proxy.reset();
    assert.equal(await c.mountBlob('test/mount-to', blob.digest, 'test/mount-from'), true);
    assert.deepEqual(
      proxy.records.map((record) => [record.pattern, record.status]),
      [['POST /v2/*/blobs/uploads/', 201]],
    );
    assert.equal(
      proxy.records[0]!.url,
      `/v2/test/mount-to/blobs/uploads/?mount=${encodeURIComponent(blob.digest)}&from=test%2Fmount-from`,
    );
    assert.equal(await c.blobExists('test/mount-to', blob.digest), 2000);
    proxy.reset();
    const missing = digestOf(Buffer.from('not in any repository'));
    assert.equal(await c.mountBlob('test/mount-to', missing, 'test/mount-from'), false);
    assert.deepEqual(
      proxy.records.map((record) => [record.pattern, record.status]),
      [
        ['POST /v2/*/blobs/uploads/', 202],
        ['DELETE /v2/*/blobs/uploads/*', 204],
      ],
    );
  });

  test('fetchBlobToFile writes the verified blob; a corrupted byte fails with "digest mismatch" and leaves no file', async () => {
    fresh();
    const blob = await makeBlob(50_000);
    const c = client();
    await c.uploadBlobFile('test/fetch', blob.digest, blob.size, blob.path);
    const dir = join(work, 'fetch-good');
    await c.fetchBlobToFile('test/fetch', blob.digest, blob.size, join(dir, 'layer'));
    assert.deepEqual(await readdir(dir), ['layer']);
    assert.deepEqual(await readFile(join(dir, 'layer')), blob.bytes);

    proxy.addFault({ method: 'GET', path: /\/blobs\/sha256:/, fault: { kind: 'corrupt-response', at: 12_345 } });
    const bad = join(work, 'fetch-bad');
    const error = await c
      .fetchBlobToFile('test/fetch', blob.digest, blob.size, join(bad, 'layer'))
      .catch((caught: unknown) => caught);
    assert.ok(error instanceof GociError);
    assert.equal(error.code, 'DIGEST_MISMATCH');
    const corrupted = Buffer.from(blob.bytes);
    corrupted[12_345] = corrupted[12_345]! ^ 0xff;
    assert.equal(
      error.message,
      `${proxy.host}/test/fetch: blob ${blob.digest}: digest mismatch (received 50000 bytes hashing to ${digestOf(corrupted)})`,
    );
    assert.deepEqual(await readdir(bad), []);
  });

  test('fetchBlobBytes verifies too, and refuses more than maxBytes', async () => {
    fresh();
    const blob = await makeBlob(4000);
    const c = client();
    await c.uploadBlobFile('test/bytes', blob.digest, blob.size, blob.path);
    proxy.addFault({ method: 'GET', path: /\/blobs\/sha256:/, fault: { kind: 'corrupt-response', at: 0 } });
    await assert.rejects(c.fetchBlobBytes('test/bytes', blob.digest, 10_000), /digest mismatch/);
    await assert.rejects(
      c.fetchBlobBytes('test/bytes', blob.digest, 1000),
      new RegExp(`GET /v2/test/bytes/blobs/${blob.digest}: the response is larger than 1000 bytes`),
    );
  });

  test('manifests: PUT by tag, GET and HEAD with an OCI Accept (2.8 answers 404 without it), GET by digest verified', async () => {
    fresh();
    const c = client();
    const { bytes, digest } = await pushImage('test/manifest', 'v1');
    assert.equal(digest, digestOf(bytes));
    const got = await c.getManifest('test/manifest', 'v1', [OCI_MANIFEST, OCI_INDEX]);
    assert.deepEqual(got, { mediaType: OCI_MANIFEST, digest, bytes });
    assert.deepEqual(await c.getManifest('test/manifest', digest, [OCI_MANIFEST]), {
      mediaType: OCI_MANIFEST,
      digest,
      bytes,
    });
    assert.deepEqual(await c.headManifest('test/manifest', 'v1', [OCI_MANIFEST]), {
      mediaType: OCI_MANIFEST,
      digest,
      size: bytes.length,
    });
    assert.equal(await c.headManifest('test/manifest', 'v2', [OCI_MANIFEST]), undefined);
    const error = await c
      .getManifest('test/manifest', 'v1', ['application/vnd.docker.distribution.manifest.v2+json'])
      .catch((caught: unknown) => caught);
    assert.ok(error instanceof GociError);
    // The client cannot tell a user's reference from one the registry named: the readers of a
    // user's reference (inspect, --base) turn this into NOT_FOUND (exit 2) themselves.
    assert.equal(error.code, 'REGISTRY_NOT_FOUND');
    assert.equal(
      error.message,
      `${proxy.host}/test/manifest:v1: manifest not found (MANIFEST_UNKNOWN OCI manifest found, but accept header does not support OCI manifests)`,
    );
  });

  test('a manifest GET by digest whose bytes do not hash to it fails; a non-JSON body names the registry and content type', async () => {
    fresh();
    const c = client();
    const { digest } = await pushImage('test/manifest-bad', 'v1');
    proxy.addFault({ method: 'GET', path: /\/manifests\//, times: 2, fault: { kind: 'corrupt-response', at: 0 } });
    await assert.rejects(
      c.getManifest('test/manifest-bad', digest, [OCI_MANIFEST]),
      new RegExp(`test/manifest-bad@${digest}: manifest digest mismatch`),
    );
    const error = await c.getManifest('test/manifest-bad', 'v1', [OCI_MANIFEST]).catch((caught: unknown) => caught);
    assert.ok(error instanceof GociError);
    assert.match(
      error.message,
      new RegExp(
        `^${proxy.host.replace(/\./g, '\\.')}: manifest v1: expected JSON but got application/vnd\\.oci\\.image\\.manifest\\.v1\\+json \\(200, \\d+ bytes: `,
      ),
    );
  });

  test('a manifest with a subject is stored, without OCI-Subject; referrers fall back to the sha256-<hex> tag', async () => {
    fresh();
    const c = client();
    const subject = await pushImage('test/referrers', 'app');
    assert.deepEqual(await c.referrers('test/referrers', subject.digest), []);
    assert.deepEqual(
      proxy.records.filter((record) => record.pattern === 'GET /v2/*/referrers/*').map((record) => record.status),
      [404],
    );
    const artifact = await pushImage('test/referrers', 'sbom', {
      artifactType: 'application/spdx+json',
      subject: { mediaType: OCI_MANIFEST, digest: subject.digest, size: subject.bytes.length },
    });
    const put = await c.putManifest('test/referrers', artifact.digest, OCI_MANIFEST, artifact.bytes);
    assert.deepEqual(put, { digest: artifact.digest, subject: false });
    const entry = {
      mediaType: OCI_MANIFEST,
      digest: artifact.digest,
      size: artifact.bytes.length,
      artifactType: 'application/spdx+json',
      annotations: { 'org.opencontainers.image.title': 'sbom' },
    };
    const index = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [entry] }));
    await c.putManifest('test/referrers', `sha256-${subject.digest.slice(7)}`, OCI_INDEX, index);
    assert.deepEqual(await c.referrers('test/referrers', subject.digest), [entry]);
  });

  test('listTags lists every tag; a repository that does not exist has none', async () => {
    fresh();
    const c = client();
    await pushImage('test/tags', '1.2.3');
    const again = await c.getManifest('test/tags', '1.2.3', [OCI_MANIFEST]);
    for (const tag of ['1.2', '1', 'latest']) await c.putManifest('test/tags', tag, OCI_MANIFEST, again.bytes);
    assert.deepEqual((await c.listTags('test/tags')).sort(), ['1', '1.2', '1.2.3', 'latest']);
    assert.deepEqual(await c.listTags('test/never-pushed'), []);
  });

  test('the concurrency limit holds per registry host', async () => {
    const own = await startProxy(registry.url);
    try {
      const c = new RegistryClient({ registry: own.host, insecureRegistries: [], credential: null, concurrency: 2 });
      const missing = Array.from({ length: 8 }, (_, index) => digestOf(Buffer.from(`missing ${index}`)));
      const other = new RegistryClient({
        registry: own.host,
        insecureRegistries: [],
        credential: null,
        concurrency: 2,
      });
      const results = await Promise.all(
        missing.map((digest, index) => (index % 2 ? c : other).blobExists('test/limit', digest)),
      );
      assert.deepEqual(results, Array(8).fill(undefined));
      assert.equal(own.count('HEAD', '/v2/*/blobs/*'), 8);
      assert.equal(own.maxInFlight, 2);
    } finally {
      await own.stop();
    }
  });
});

test('port 1, which fetch refused as a Fetch-standard "bad port", is asked like any other: refused, in one line', async () => {
  const error = await new RegistryClient({ registry: '127.0.0.1:1', insecureRegistries: [], credential: null })
    .ping()
    .catch((caught: unknown) => caught);
  assert.ok(error instanceof GociError);
  assert.equal(error.code, 'REGISTRY_UNREACHABLE');
  assert.equal(error.message, 'cannot connect to 127.0.0.1:1: connection refused');
});
