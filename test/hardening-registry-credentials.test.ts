import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { GociError } from '../common/errors.js';
import { RegistryClient } from '../registry/client.js';
import { goci } from './support/goci.js';
import { startProxy, type RegistryProxy } from './support/proxy.js';
import { startRecorder, type Recorder } from './support/recorder.js';
import { startRegistry, type RegistryHarness } from './support/registry.js';
import { startTokenServer, type TokenServer } from './support/token-server.js';
import { exampleRepository, removeDirectory, temporaryDirectory } from './support/workspace.js';

/**
 * Issue 10, break 1: a credential goes only to the origin it belongs to. The registry (real
 * docker-registry 2.8 with htpasswd or token auth) sits behind the fault proxy, which sends
 * upload sessions (Location) or GET/HEAD requests (a redirect) to a second loopback origin, the
 * recorder. The recorder stands for blob storage: it trusts the URL, records what arrived and
 * forwards with its own authorization. No request it saw may carry the user's credential.
 */

const USER = 'alice';
const EPOCH = '1714564800';
const PASSWORD = 'Cr3dential-Pa55-origin';
const BASIC = `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}`;
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';
/** The POST that starts an upload session. */
const UPLOADS = /\/blobs\/uploads\/$/;

let work: string;
let blobs = 0;

async function makeBlob(size: number): Promise<{ path: string; digest: string; size: number; bytes: Buffer }> {
  const bytes = randomBytes(size);
  const path = join(work, `blob-${blobs++}`);
  await writeFile(path, bytes);
  return { path, digest: `sha256:${createHash('sha256').update(bytes).digest('hex')}`, size, bytes };
}

/** What the recorder saw, as `METHOD Authorization-or-none` per request. */
function seen(recorder: Recorder): string[] {
  return recorder.records.map((record) => `${record.method} ${record.authorization ?? 'no authorization'}`);
}

before(async () => {
  work = await temporaryDirectory('hardening-credentials');
});
after(async () => {
  await removeDirectory(work);
});

interface Setup {
  name: string;
  proxy: () => RegistryProxy;
  recorder: () => Recorder;
}

/** The same cases for Basic and Bearer: each gets a fresh client, so each starts anonymous. */
function originCases(setup: Setup): void {
  const client = (options: { chunkThreshold?: number; chunkSize?: number } = {}): RegistryClient =>
    new RegistryClient({
      registry: setup.proxy().host,
      insecureRegistries: [],
      credential: { username: USER, secret: PASSWORD, identityToken: false, source: 'the test' },
      retry: { baseDelayMs: 10, maxDelayMs: 50 },
      ...options,
    });
  const fresh = (): void => {
    setup.proxy().reset();
    setup.proxy().clearFaults();
    setup.recorder().records.length = 0;
  };

  /** Every upload session the registry starts continues on the recorder's origin. */
  const relocateUploads = (): void => {
    const to = setup.recorder().url;
    setup.proxy().addFault({ method: 'POST', path: UPLOADS, times: 100, fault: { kind: 'relocate', to } });
  };
  const redirect = (method: string, path: RegExp): void => {
    setup.proxy().addFault({ method, path, fault: { kind: 'redirect', to: setup.recorder().url } });
  };

  test(`${setup.name}: an upload Location on another origin gets the PUT with no Authorization`, async () => {
    fresh();
    const blob = await makeBlob(5000);
    relocateUploads();
    const c = client();
    await c.uploadBlobFile('origin/put', blob.digest, blob.size, blob.path);
    assert.deepEqual(seen(setup.recorder()), ['PUT no authorization']);
    assert.equal(setup.recorder().records[0]!.status, 201);
    assert.equal(await c.blobExists('origin/put', blob.digest), blob.size);
  });

  test(`${setup.name}: chunked: every PATCH and the closing PUT go without Authorization`, async () => {
    fresh();
    const blob = await makeBlob(2500);
    relocateUploads();
    const c = client({ chunkThreshold: 1000, chunkSize: 1000 });
    await c.uploadBlobFile('origin/chunked', blob.digest, blob.size, blob.path);
    const patch = 'PATCH no authorization';
    assert.deepEqual(seen(setup.recorder()), [patch, patch, patch, 'PUT no authorization']);
    assert.equal(await c.blobExists('origin/chunked', blob.digest), blob.size);
  });

  test(`${setup.name}: a GET of a blob redirected to another origin follows without Authorization`, async () => {
    fresh();
    const blob = await makeBlob(3000);
    const c = client();
    await c.uploadBlobFile('origin/get', blob.digest, blob.size, blob.path);
    redirect('GET', /\/blobs\/sha256:/);
    const file = join(work, `fetched-${setup.name}`);
    await c.fetchBlobToFile('origin/get', blob.digest, blob.size, file);
    assert.deepEqual(seen(setup.recorder()), ['GET no authorization']);
    assert.deepEqual(await readFile(file), blob.bytes);
  });

  test(`${setup.name}: a HEAD of a manifest redirected to another origin follows without Authorization`, async () => {
    fresh();
    const c = client();
    const config = await makeBlob(100);
    await c.uploadBlobFile('origin/head', config.digest, config.size, config.path);
    const configDescriptor = { mediaType: OCI_CONFIG, digest: config.digest, size: config.size };
    const document = { schemaVersion: 2, mediaType: OCI_MANIFEST, config: configDescriptor, layers: [] };
    const manifest = Buffer.from(JSON.stringify(document));
    const { digest } = await c.putManifest('origin/head', 'v1', OCI_MANIFEST, manifest);
    redirect('HEAD', /\/manifests\/v1$/);
    const head = await c.headManifest('origin/head', 'v1', [OCI_MANIFEST]);
    assert.deepEqual(seen(setup.recorder()), ['HEAD no authorization']);
    assert.deepEqual(head, { mediaType: OCI_MANIFEST, digest, size: manifest.length });
  });
}

describe('htpasswd (Basic) credentials', () => {
  let registry: RegistryHarness;
  let proxy: RegistryProxy;
  let recorder: Recorder;
  let repo: string;

  before(async () => {
    [registry, repo] = await Promise.all([
      startRegistry({ auth: { htpasswd: { user: USER, password: PASSWORD } } }),
      exampleRepository('hello', 'hardening-credentials'),
    ]);
    proxy = await startProxy(registry.url);
    recorder = await startRecorder(registry.url, async () => BASIC);
  });
  after(async () => {
    await recorder?.stop();
    await proxy?.stop();
    await registry?.stop();
    await removeDirectory(repo);
  });

  originCases({ name: 'basic', proxy: () => proxy, recorder: () => recorder });

  test('basic: a 401 from another origin is not answered (its realm would get the password)', async () => {
    // A host behind an upload Location that asks for credentials, naming a realm of its own.
    const challenge = { 'www-authenticate': 'Bearer realm="{origin}/token",service="elsewhere"' };
    const token = { status: 200, headers: { 'content-type': 'application/json' }, body: '{"token":"t"}' };
    const asker = await startRecorder(
      registry.url,
      async () => undefined,
      (_method, path) => (path === '/token' ? token : { status: 401, headers: challenge }),
    );
    try {
      proxy.reset();
      proxy.clearFaults();
      proxy.addFault({ method: 'POST', path: UPLOADS, times: 100, fault: { kind: 'relocate', to: asker.url } });
      const blob = await makeBlob(700);
      const credential = { username: USER, secret: PASSWORD, identityToken: false, source: 'the test' };
      const c = new RegistryClient({ registry: proxy.host, insecureRegistries: [], credential });
      const upload = c.uploadBlobFile('origin/asker', blob.digest, blob.size, blob.path);
      const error = await upload.catch((caught: unknown) => caught);
      // One PUT, no Authorization on it, and no token request to the realm it named.
      assert.deepEqual(seen(asker), ['PUT no authorization']);
      assert.ok(error instanceof GociError, String(error));
      assert.equal(error.code, 'REGISTRY_AUTH');
      const rule = `answered 401: goci sends ${proxy.host}'s credentials to ${proxy.host} only`;
      const start = `${proxy.host}: PUT ${asker.url}/v2/origin/asker/blobs/uploads/`;
      assert.ok(error.message.startsWith(start), error.message);
      assert.ok(error.message.endsWith(rule), error.message);
    } finally {
      await asker.stop();
    }
  });

  test('goci build --push: no upload sent to another origin carries Authorization, and the push succeeds', async () => {
    proxy.reset();
    proxy.clearFaults();
    recorder.records.length = 0;
    const docker = join(work, 'docker');
    await mkdir(docker, { recursive: true });
    const auth = Buffer.from(`${USER}:${PASSWORD}`).toString('base64');
    await writeFile(join(docker, 'config.json'), JSON.stringify({ auths: { [proxy.host]: { auth } } }));
    const cache = join(work, 'cache');
    const env = { ...process.env, DOCKER_CONFIG: docker, SOURCE_DATE_EPOCH: EPOCH, GOCI_CACHE_DIR: cache };
    proxy.addFault({ method: 'POST', path: UPLOADS, times: 1000, fault: { kind: 'relocate', to: recorder.url } });
    const target = `${proxy.host}/acme/relocated`;
    const args = ['build', '.', '--platform', 'linux/amd64', '--version', '1.2.3', '--push', target, '--sbom', 'none'];
    const result = await goci([...args, '--json', '--progress', 'plain'], { cwd: repo, env });
    assert.equal(result.exitCode, 0, result.stderr);
    const uploads = proxy.count('POST', '/v2/*/blobs/uploads/');
    assert.ok(uploads > 0, 'nothing was uploaded');
    assert.deepEqual(
      seen(recorder),
      Array.from({ length: uploads }, () => 'PUT no authorization'),
    );
    for (const output of [result.stdout, result.stderr]) assert.ok(!output.includes(auth), 'a credential was printed');
  });
});

describe('token (Bearer) credentials', () => {
  let tokens: TokenServer;
  let registry: RegistryHarness;
  let proxy: RegistryProxy;
  let recorder: Recorder;

  /** The recorder's own token for the repository in `path`, fetched as the storage service would. */
  const storageToken = async (method: string, path: string): Promise<string | undefined> => {
    const name = /^\/v2\/(.+)\/(blobs|manifests)\//.exec(path)?.[1];
    if (!name) return undefined;
    const url = new URL(tokens.realm);
    url.searchParams.set('service', tokens.service);
    url.searchParams.set('scope', `repository:${name}:${method === 'GET' || method === 'HEAD' ? 'pull' : 'pull,push'}`);
    const response = await fetch(url, { headers: { authorization: BASIC } });
    return `Bearer ${((await response.json()) as { token: string }).token}`;
  };

  before(async () => {
    tokens = await startTokenServer({ user: USER, password: PASSWORD });
    const { realm, service, issuer, rootCertBundle } = tokens;
    registry = await startRegistry({ auth: { token: { realm, service, issuer, rootCertBundle } } });
    proxy = await startProxy(registry.url);
    recorder = await startRecorder(registry.url, storageToken);
  });
  after(async () => {
    await recorder?.stop();
    await proxy?.stop();
    await registry?.stop();
    await tokens?.stop();
  });

  originCases({ name: 'bearer', proxy: () => proxy, recorder: () => recorder });

  test('bearer: the realm gets the Basic credential; no token goes to another origin', async () => {
    proxy.reset();
    proxy.clearFaults();
    recorder.records.length = 0;
    tokens.requests.length = 0;
    const blob = await makeBlob(1200);
    proxy.addFault({ method: 'POST', path: UPLOADS, times: 100, fault: { kind: 'relocate', to: recorder.url } });
    const credential = { username: USER, secret: PASSWORD, identityToken: false, source: 'the test' };
    const c = new RegistryClient({ registry: proxy.host, insecureRegistries: [], credential });
    await c.uploadBlobFile('origin/realm', blob.digest, blob.size, blob.path);
    // The client's own token request comes first (the recorder fetches its own later).
    assert.deepEqual([tokens.requests[0]!.user, tokens.requests[0]!.status], [USER, 200]);
    assert.deepEqual(seen(recorder), ['PUT no authorization']);
    for (const token of tokens.issued) {
      assert.ok(recorder.records.every((record) => !record.authorization?.includes(token)));
    }
  });
});
