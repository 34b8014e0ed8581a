import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createPublicKey } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { execa } from 'execa';
import { GociError } from '../common/errors.js';
import { mergeScopes, parseChallenges } from '../registry/auth.js';
import { RegistryClient, type RegistryClientOptions } from '../registry/client.js';
import { startRegistry, type RegistryHarness } from './support/registry.js';
import { startProxy, type RegistryProxy } from './support/proxy.js';
import { libtrustKeyId, startTokenServer, type TokenServer } from './support/token-server.js';
import { removeDirectory, temporaryDirectory } from './support/workspace.js';

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const PASSWORD = 'correct-horse-Battery-9';
const IDENTITY_TOKEN = 'goci-identity-7f3a9c2e5b';

let work: string;
let blobCount = 0;

async function makeBlob(size: number): Promise<{ path: string; digest: string; size: number; bytes: Buffer }> {
  const bytes = randomBytes(size);
  const path = join(work, `blob-${blobCount++}`);
  await writeFile(path, bytes);
  return { path, digest: `sha256:${createHash('sha256').update(bytes).digest('hex')}`, size, bytes };
}

before(async () => {
  work = await temporaryDirectory('registry-auth');
});

after(async () => {
  await removeDirectory(work);
});

describe('WWW-Authenticate challenges and scopes', () => {
  test('Bearer with quoted values holding commas and spaces, Basic, several challenges in one header', () => {
    assert.deepEqual(
      parseChallenges(
        'Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull,push repository:c:pull"',
      ),
      [
        {
          scheme: 'bearer',
          params: {
            realm: 'https://auth.example/token',
            service: 'registry.example',
            scope: 'repository:a/b:pull,push repository:c:pull',
          },
        },
      ],
    );
    assert.deepEqual(parseChallenges('Basic realm="goci, \\"test\\""'), [
      { scheme: 'basic', params: { realm: 'goci, "test"' } },
    ]);
    assert.deepEqual(
      parseChallenges('Basic realm="x", Bearer realm="https://t/token", service=reg ,error="insufficient_scope"'),
      [
        { scheme: 'basic', params: { realm: 'x' } },
        { scheme: 'bearer', params: { realm: 'https://t/token', service: 'reg', error: 'insufficient_scope' } },
      ],
    );
    assert.deepEqual(parseChallenges('Negotiate abc==, Basic Realm=r'), [
      { scheme: 'negotiate', params: {} },
      { scheme: 'basic', params: { realm: 'r' } },
    ]);
  });

  test('scopes merge by resource, actions united and sorted', () => {
    assert.deepEqual(
      mergeScopes(['repository:b:push,pull', 'repository:a:pull', 'repository:b:pull repository:a:pull']),
      ['repository:a:pull', 'repository:b:pull,push'],
    );
    assert.deepEqual(mergeScopes(['registry:catalog:*', 'repository(plugin):p:pull']), [
      'registry:catalog:*',
      'repository(plugin):p:pull',
    ]);
    assert.deepEqual(mergeScopes([]), []);
  });
});

describe('htpasswd (Basic) auth on docker-registry 2.8', () => {
  let registry: RegistryHarness;
  let proxy: RegistryProxy;
  const lines: string[] = [];

  before(async () => {
    registry = await startRegistry({ auth: { htpasswd: { user: 'alice', password: PASSWORD } } });
    proxy = await startProxy(registry.url);
  });

  after(async () => {
    await proxy?.stop();
    await registry?.stop();
  });

  const client = (password: string | undefined): RegistryClient =>
    new RegistryClient({
      registry: proxy.host,
      insecureRegistries: [],
      env: {
        HOME: work,
        ...(password === undefined ? {} : { GOCI_REGISTRY_USER: 'alice', GOCI_REGISTRY_PASSWORD: password }),
      },
      verbose: (line) => lines.push(line),
      retry: { baseDelayMs: 10, maxDelayMs: 50 },
    });

  test('anonymous first; after the Basic challenge every request carries the credentials', async () => {
    proxy.reset();
    const blob = await makeBlob(3000);
    const c = client(PASSWORD);
    await c.uploadBlobFile('basic/app', blob.digest, blob.size, blob.path);
    assert.equal(await c.blobExists('basic/app', blob.digest), 3000);
    assert.deepEqual(
      proxy.records.map((record) => `${record.pattern} ${record.status}`),
      [
        'POST /v2/*/blobs/uploads/ 401',
        'POST /v2/*/blobs/uploads/ 202',
        'PUT /v2/*/blobs/uploads/* 201',
        'HEAD /v2/*/blobs/* 200',
      ],
    );
    assert.equal(c.authScheme, 'basic');
  });

  test('403: the error names the scope and what the registry said', async () => {
    const c = client(PASSWORD);
    await c.ping();
    proxy.addFault({
      method: 'GET',
      path: /\/manifests\//,
      fault: {
        kind: 'status',
        status: 403,
        body: JSON.stringify({ errors: [{ code: 'DENIED', message: 'requested access to the resource is denied' }] }),
      },
    });
    const error = await c.getManifest('basic/app', 'v1', [OCI_MANIFEST]).catch((caught: unknown) => caught);
    assert.ok(error instanceof GociError);
    assert.equal(
      error.message,
      `${proxy.host}: access to repository:basic/app:pull denied for user alice (403: DENIED requested access to the resource is denied)`,
    );
    assert.equal(error.hint, "ask the registry's administrator for that permission, or check the repository name");
  });

  test('a wrong password: "authentication failed for user alice (401)", never the password', async () => {
    const error = await client('wrong-password-123')
      .ping()
      .catch((caught: unknown) => caught);
    assert.ok(error instanceof GociError);
    assert.equal(error.message, `${proxy.host}: authentication failed for user alice (401)`);
    assert.equal(
      error.hint,
      `check the user name and password or token (from GOCI_REGISTRY_USER/GOCI_REGISTRY_PASSWORD); goci login ${proxy.host} stores new ones`,
    );
    assert.ok(!`${error.message}${error.hint}`.includes('wrong-password-123'));
  });

  test('no credentials: "authentication required" naming the scope', async () => {
    const error = await client(undefined)
      .getManifest('basic/app', 'latest', [OCI_MANIFEST])
      .catch((caught: unknown) => caught);
    assert.ok(error instanceof GociError);
    assert.equal(error.message, `${proxy.host}: authentication required for repository:basic/app:pull (401)`);
  });

  test('verbose lines never hold a password or an Authorization header', () => {
    const text = lines.join('\n');
    assert.ok(lines.length >= 6);
    for (const secret of [
      PASSWORD,
      'wrong-password-123',
      Buffer.from(`alice:${PASSWORD}`).toString('base64'),
      'Basic ',
      'uthorization',
    ])
      assert.ok(!text.includes(secret), secret);
  });
});

describe('token (Bearer) auth on docker-registry 2.8 with a test token server', () => {
  let tokens: TokenServer;
  let registry: RegistryHarness;
  let proxy: RegistryProxy;
  const lines: string[] = [];
  let clock = Date.now();

  before(async () => {
    tokens = await startTokenServer({
      user: 'alice',
      password: PASSWORD,
      identityToken: IDENTITY_TOKEN,
      access: (user, type, name) => {
        if (type !== 'repository') return [];
        if (!user) return name.startsWith('public/') ? ['pull'] : [];
        if (name.startsWith('secret/')) return [];
        if (name.startsWith('readonly/')) return ['pull'];
        return ['pull', 'push'];
      },
    });
    registry = await startRegistry({
      auth: {
        token: {
          realm: tokens.realm,
          service: tokens.service,
          issuer: tokens.issuer,
          rootCertBundle: tokens.rootCertBundle,
        },
      },
    });
    proxy = await startProxy(registry.url);
  });

  after(async () => {
    await proxy?.stop();
    await registry?.stop();
    await tokens?.stop();
  });

  const client = (options: Partial<RegistryClientOptions> & { password?: string | null } = {}): RegistryClient => {
    const { password = PASSWORD, ...rest } = options;
    return new RegistryClient({
      registry: proxy.host,
      insecureRegistries: [],
      credential:
        password === null ? null : { username: 'alice', secret: password, identityToken: false, source: 'the test' },
      verbose: (line) => lines.push(line),
      retry: { baseDelayMs: 10, maxDelayMs: 50 },
      ...rest,
    });
  };

  const fresh = (): void => {
    tokens.requests.length = 0;
    tokens.expiresIn = 300;
    proxy.reset();
    proxy.clearFaults();
  };

  test("the JWS kid is libtrust's: base32 of the first 240 bits of SHA-256 of the DER public key, in groups of 4", async () => {
    assert.match(tokens.kid, /^(?:[A-Z2-7]{4}:){11}[A-Z2-7]{4}$/);
    // The same computed by openssl and coreutils' base32, independently of the server's code.
    const der = (
      await execa(
        'sh',
        [
          '-c',
          `openssl x509 -pubkey -noout -in '${tokens.rootCertBundle}' | openssl pkey -pubin -outform DER | openssl dgst -sha256 -binary | head -c 30 | base32 -w0`,
        ],
        { encoding: 'utf8' },
      )
    ).stdout;
    assert.equal(tokens.kid, der.match(/.{4}/g)!.join(':'));
    assert.equal(libtrustKeyId(createPublicKey(await readFile(tokens.rootCertBundle))), tokens.kid);
  });

  test('push and pull as alice: one token per scope set (realm GET with service, scope, Basic), cached across requests', async () => {
    fresh();
    const c = client();
    const config = await makeBlob(100);
    const layer = await makeBlob(5000);
    await c.uploadBlobFile('tok/app', config.digest, config.size, config.path);
    await c.uploadBlobFile('tok/app', layer.digest, layer.size, layer.path);
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: OCI_MANIFEST,
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: config.digest, size: 100 },
        layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: layer.digest, size: 5000 }],
      }),
    );
    await c.putManifest('tok/app', 'v1', OCI_MANIFEST, manifest);
    const got = await c.getManifest('tok/app', 'v1', [OCI_MANIFEST]);
    assert.deepEqual(got.bytes, manifest);
    assert.deepEqual(
      tokens.requests.map((request) => [request.method, request.user, request.scopes, request.status]),
      [
        ['GET', 'alice', ['repository:tok/app:pull,push'], 200],
        ['GET', 'alice', ['repository:tok/app:pull'], 200],
      ],
    );
    assert.deepEqual(tokens.requests[0]!.granted, [{ type: 'repository', name: 'tok/app', actions: ['pull', 'push'] }]);
    // One anonymous 401 to learn the challenge; every later request goes with a token.
    assert.equal(proxy.records.filter((record) => record.status === 401).length, 1);
    assert.equal(c.authScheme, 'bearer');
  });

  test('tokens are refreshed before expires_in runs out (10 s early), and 60 s is assumed when it is missing', async () => {
    fresh();
    const blob = await makeBlob(10);
    clock = Date.now();
    const c = client({ now: () => clock });
    assert.equal(await c.blobExists('tok/clock', blob.digest), undefined);
    assert.equal(tokens.requests.length, 1);
    clock += 280_000;
    await c.blobExists('tok/clock', blob.digest);
    assert.equal(tokens.requests.length, 1, 'still valid at 280 s of 300');
    clock += 15_000;
    await c.blobExists('tok/clock', blob.digest);
    assert.equal(tokens.requests.length, 2, 'refreshed at 295 s of 300');

    tokens.expiresIn = null;
    const d = client({ now: () => clock });
    await d.blobExists('tok/clock', blob.digest);
    assert.equal(tokens.requests.length, 3);
    clock += 45_000;
    await d.blobExists('tok/clock', blob.digest);
    assert.equal(tokens.requests.length, 3, 'still valid at 45 s of the default 60');
    clock += 10_000;
    await d.blobExists('tok/clock', blob.digest);
    assert.equal(tokens.requests.length, 4, 'refreshed at 55 s of the default 60');
  });

  test('a cross-repository mount asks for both repositories in one token: B pull,push and A pull', async () => {
    fresh();
    const blob = await makeBlob(2000);
    await client().uploadBlobFile('tok/base', blob.digest, blob.size, blob.path);
    tokens.requests.length = 0;
    proxy.reset();
    const c = client();
    assert.equal(await c.mountBlob('tok/derived', blob.digest, 'tok/base'), true);
    assert.deepEqual(
      tokens.requests.map((request) => request.scopes),
      [['repository:tok/base:pull', 'repository:tok/derived:pull,push']],
    );
    assert.deepEqual(
      proxy.records.map((record) => `${record.method} ${record.status}`),
      ['POST 401', 'POST 201'],
    );
  });

  test('a mount from a repository the user may not read falls back (false), so the caller uploads', async () => {
    fresh();
    const blob = await makeBlob(500);
    assert.equal(await client().mountBlob('tok/other', blob.digest, 'secret/base'), false);
    assert.deepEqual(tokens.requests.at(-1)!.granted, [
      { type: 'repository', name: 'tok/other', actions: ['pull', 'push'] },
    ]);
    assert.ok(lines.includes(`mount of ${blob.digest} from secret/base into tok/other not allowed; uploading instead`));
  });

  test('insufficient_scope: the error names the scope the user lacks', async () => {
    fresh();
    const blob = await makeBlob(500);
    const error = await client()
      .uploadBlobFile('readonly/app', blob.digest, blob.size, blob.path)
      .catch((caught: unknown) => caught);
    assert.ok(error instanceof GociError);
    assert.equal(
      error.message,
      `${proxy.host}: access to repository:readonly/app:pull,push denied for user alice (insufficient_scope)`,
    );
    assert.deepEqual(
      tokens.requests.map((request) => request.granted),
      [[{ type: 'repository', name: 'readonly/app', actions: ['pull'] }]],
    );
  });

  test('a wrong password: the token service refuses it → "authentication failed for user alice (401)"', async () => {
    fresh();
    const error = await client({ password: 'not-the-password-42' })
      .blobExists('tok/app', `sha256:${'0'.repeat(64)}`)
      .catch((caught: unknown) => caught);
    assert.ok(error instanceof GociError);
    assert.equal(error.message, `${proxy.host}: authentication failed for user alice (401)`);
    assert.deepEqual(
      tokens.requests.map((request) => request.status),
      [401],
    );
  });

  test('an identity token is exchanged with a refresh_token POST', async () => {
    fresh();
    const blob = await makeBlob(700);
    const c = client({
      credential: { username: '<token>', secret: IDENTITY_TOKEN, identityToken: true, source: 'the test' },
    });
    await c.uploadBlobFile('tok/identity', blob.digest, blob.size, blob.path);
    assert.deepEqual(
      tokens.requests.map((request) => [request.method, request.grantType, request.user, request.scopes]),
      [['POST', 'refresh_token', 'alice', ['repository:tok/identity:pull,push']]],
    );
    assert.equal(await c.blobExists('tok/identity', blob.digest), 700);
  });

  test('anonymous: pulls what anyone may; a push is denied without credentials', async () => {
    fresh();
    const blob = await makeBlob(300);
    await client().uploadBlobFile('public/tool', blob.digest, blob.size, blob.path);
    const anonymous = client({ password: null });
    assert.deepEqual(await anonymous.fetchBlobBytes('public/tool', blob.digest, 1000), blob.bytes);
    const error = await anonymous
      .uploadBlobFile('public/tool', blob.digest, blob.size, blob.path)
      .catch((caught: unknown) => caught);
    assert.ok(error instanceof GociError);
    assert.equal(
      error.message,
      `${proxy.host}: access to repository:public/tool:pull,push denied without credentials (insufficient_scope)`,
    );
    assert.equal(
      error.hint,
      `log in with goci login ${proxy.host}, or set GOCI_REGISTRY_USER and GOCI_REGISTRY_PASSWORD`,
    );
  });

  test('a 401 with a cached token fetches one fresh token and retries; a 401 with the fresh one fails', async () => {
    fresh();
    const blob = await makeBlob(100);
    const c = client();
    await c.uploadBlobFile('tok/revoked', blob.digest, blob.size, blob.path);
    assert.equal(await c.blobExists('tok/revoked', blob.digest), 100);
    const before = tokens.requests.length;
    const challenge = `Bearer realm="${tokens.realm}",service="${tokens.service}",scope="repository:tok/revoked:pull",error="invalid_token"`;
    proxy.addFault({
      method: 'HEAD',
      fault: { kind: 'status', status: 401, headers: { 'www-authenticate': challenge } },
    });
    assert.equal(await c.blobExists('tok/revoked', blob.digest), 100);
    assert.equal(tokens.requests.length, before + 1);
    proxy.addFault({
      method: 'HEAD',
      times: 2,
      fault: { kind: 'status', status: 401, headers: { 'www-authenticate': challenge } },
    });
    await assert.rejects(c.blobExists('tok/revoked', blob.digest), {
      message: `${proxy.host}: authentication failed for user alice (401)`,
    });
  });

  test('no verbose line holds a password, identity token, issued token or Authorization header', () => {
    const text = lines.join('\n');
    assert.ok(tokens.issued.length >= 10);
    assert.ok(lines.some((line) => line.startsWith(`GET ${tokens.url}/token?service=…&scope=…&account=… 200`)));
    for (const secret of [
      PASSWORD,
      'not-the-password-42',
      IDENTITY_TOKEN,
      'Bearer ',
      'Basic ',
      'uthorization',
      ...tokens.issued,
      ...tokens.issued.map((token) => token.split('.')[2]!),
    ]) {
      assert.ok(!text.includes(secret), `a verbose line holds ${secret.slice(0, 12)}…`);
    }
  });
});
