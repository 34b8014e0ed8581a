import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
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
const PASSWORD = 'Cr3dential-Pa55-origin';
const BASIC = `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}`;
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';

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

  test(`${setup.name}: an upload Location on another origin gets the PUT without Authorization, and the blob arrives`, async () => {
    fresh();
    const blob = await makeBlob(5000);
    setup.proxy().addFault({ method: 'POST', path: /\/blobs\/uploads\/$/, times: 100, fault: { kind: 'relocate', to: setup.recorder().url } });
    const c = client();
    await c.uploadBlobFile('origin/put', blob.digest, blob.size, blob.path);
    assert.deepEqual(seen(setup.recorder()), ['PUT no authorization']);
    assert.equal(setup.recorder().records[0]!.status, 201);
    assert.equal(await c.blobExists('origin/put', blob.digest), blob.size);
  });

  test(`${setup.name}: the chunked upload path sends every PATCH and the closing PUT without Authorization`, async () => {
    fresh();
    const blob = await makeBlob(2500);
    setup.proxy().addFault({ method: 'POST', path: /\/blobs\/uploads\/$/, times: 100, fault: { kind: 'relocate', to: setup.recorder().url } });
    const c = client({ chunkThreshold: 1000, chunkSize: 1000 });
    await c.uploadBlobFile('origin/chunked', blob.digest, blob.size, blob.path);
    assert.deepEqual(seen(setup.recorder()), ['PATCH no authorization', 'PATCH no authorization', 'PATCH no authorization', 'PUT no authorization']);
    assert.equal(await c.blobExists('origin/chunked', blob.digest), blob.size);
  });

  test(`${setup.name}: a GET of a blob redirected to another origin follows without Authorization`, async () => {
    fresh();
    const blob = await makeBlob(3000);
    const c = client();
    await c.uploadBlobFile('origin/get', blob.digest, blob.size, blob.path);
    setup.proxy().addFault({ method: 'GET', path: /\/blobs\/sha256:/, fault: { kind: 'redirect', to: setup.recorder().url } });
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
    const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: config.digest, size: config.size }, layers: [] }));
    const { digest } = await c.putManifest('origin/head', 'v1', OCI_MANIFEST, manifest);
    setup.proxy().addFault({ method: 'HEAD', path: /\/manifests\/v1$/, fault: { kind: 'redirect', to: setup.recorder().url } });
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
    [registry, repo] = await Promise.all([startRegistry({ auth: { htpasswd: { user: USER, password: PASSWORD } } }), exampleRepository('hello', 'hardening-credentials')]);
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

  test('goci build --push: every upload sent to another origin carries no Authorization, and the push succeeds', async () => {
    proxy.reset();
    proxy.clearFaults();
    recorder.records.length = 0;
    const docker = join(work, 'docker');
    await mkdir(docker, { recursive: true });
    await writeFile(join(docker, 'config.json'), JSON.stringify({ auths: { [proxy.host]: { auth: Buffer.from(`${USER}:${PASSWORD}`).toString('base64') } } }));
    const env = { ...process.env, DOCKER_CONFIG: docker, SOURCE_DATE_EPOCH: '1714564800', GOCI_CACHE_DIR: join(work, 'cache') };
    proxy.addFault({ method: 'POST', path: /\/blobs\/uploads\/$/, times: 1000, fault: { kind: 'relocate', to: recorder.url } });
    const result = await goci(['build', '.', '--platform', 'linux/amd64', '--version', '1.2.3', '--push', `${proxy.host}/acme/relocated`, '--sbom', 'none', '--progress', 'plain', '--json'], { cwd: repo, env });
    assert.equal(result.exitCode, 0, result.stderr);
    const uploads = proxy.count('POST', '/v2/*/blobs/uploads/');
    assert.ok(uploads > 0, 'nothing was uploaded');
    assert.deepEqual(seen(recorder), Array.from({ length: uploads }, () => 'PUT no authorization'));
    for (const output of [result.stdout, result.stderr]) assert.ok(!output.includes(BASIC.slice('Basic '.length)), 'the credential appeared in the output');
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
    registry = await startRegistry({ auth: { token: { realm: tokens.realm, service: tokens.service, issuer: tokens.issuer, rootCertBundle: tokens.rootCertBundle } } });
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

  test('bearer: the token request to the realm carries the Basic credential; no token leaves the registry origin', async () => {
    proxy.reset();
    proxy.clearFaults();
    recorder.records.length = 0;
    tokens.requests.length = 0;
    const blob = await makeBlob(1200);
    proxy.addFault({ method: 'POST', path: /\/blobs\/uploads\/$/, times: 100, fault: { kind: 'relocate', to: recorder.url } });
    const c = new RegistryClient({ registry: proxy.host, insecureRegistries: [], credential: { username: USER, secret: PASSWORD, identityToken: false, source: 'the test' } });
    await c.uploadBlobFile('origin/realm', blob.digest, blob.size, blob.path);
    // The client's own token request comes first (the recorder fetches its own later).
    assert.deepEqual([tokens.requests[0]!.user, tokens.requests[0]!.status], [USER, 200]);
    assert.deepEqual(seen(recorder), ['PUT no authorization']);
    for (const token of tokens.issued) assert.ok(recorder.records.every((record) => !record.authorization?.includes(token)));
  });
});
