import assert from 'node:assert/strict';
import { sign } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { goci, lastLine } from './support/goci.js';
import { attachReferrer } from './support/registry-writes.js';
import { startProxy, type RegistryProxy } from './support/proxy.js';
import { startRegistry, type RegistryHarness } from './support/registry.js';
import { sigstoreKeyHint, verifiedBundleStatement } from './support/sigstore.js';
import { exampleRepository, removeDirectory, temporaryDirectory } from './support/workspace.js';

/**
 * Issue 15: each signed manifest also carries a Sigstore bundle as an OCI 1.1 referrer, the way
 * cosign 3 stores one. The bundles are checked by sigstore-js (`@sigstore/verify`), offline,
 * with nothing trusted but the public key: goci does not verify itself here.
 */

const BUNDLE_TYPE = 'application/vnd.dev.sigstore.bundle.v0.3+json';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const COSIGN_SIGN = 'https://sigstore.dev/cosign/sign/v1';

let registry: RegistryHarness;
let work: string;
let repo: string;
let keyPem: string;
let publicPem: string;
let signedBuild: Built;

interface Built {
  index: { digest: string };
  platforms: { digest: string }[];
}

const PLATFORMS = ['--platform', 'linux/amd64,linux/arm64', '--sbom', 'none', '--json'];

function digestsOf(image: Built): string[] {
  return [image.index.digest, ...image.platforms.map((platform) => platform.digest)];
}

async function registryDocument(repository: string, reference: string, accept: string): Promise<Buffer> {
  const response = await fetch(`${registry.url}/v2/${repository}/manifests/${reference}`, { headers: { accept } });
  assert.equal(response.status, 200, `${repository}:${reference}`);
  return Buffer.from(await response.arrayBuffer());
}

async function registryBlob(repository: string, digest: string): Promise<Buffer> {
  const response = await fetch(`${registry.url}/v2/${repository}/blobs/${digest}`);
  assert.equal(response.status, 200, digest);
  return Buffer.from(await response.arrayBuffer());
}

/** The bundle referrers of `digest`, as the fallback tag lists them: each one's manifest and bundle bytes. */
async function bundlesOf(
  repository: string,
  digest: string,
): Promise<{ manifest: Record<string, any>; bundle: Buffer }[]> {
  const listing = JSON.parse(
    (await registryDocument(repository, digest.replace(':', '-'), OCI_INDEX)).toString('utf8'),
  ) as { manifests: { digest: string; artifactType?: string }[] };
  const bundles = listing.manifests.filter((entry) => entry.artifactType === BUNDLE_TYPE);
  return Promise.all(
    bundles.map(async (entry) => {
      const manifest = JSON.parse((await registryDocument(repository, entry.digest, OCI_MANIFEST)).toString('utf8'));
      return { manifest, bundle: await registryBlob(repository, manifest.layers[0].digest) };
    }),
  );
}

/** The one bundle referrer of `digest`. */
async function onlyBundleOf(
  repository: string,
  digest: string,
): Promise<{ manifest: Record<string, any>; bundle: Buffer }> {
  const [found, ...more] = await bundlesOf(repository, digest);
  assert.ok(found, `no bundle for ${digest}`);
  assert.equal(more.length, 0);
  return found;
}

/** What a bundle's statement must say of the manifest it signs: cosign's signature of exactly that digest. */
function cosignSignStatement(digest: string): Record<string, unknown> {
  return {
    _type: 'https://in-toto.io/Statement/v1',
    subject: [{ digest: { sha256: digest.slice('sha256:'.length) } }],
    predicateType: COSIGN_SIGN,
    predicate: {},
  };
}

before(async () => {
  [registry, work, repo] = await Promise.all([
    startRegistry(),
    temporaryDirectory('sigstore'),
    exampleRepository('hello', 'sigstore-hello'),
  ]);
  const made = await goci(['keygen', '--output', join(work, 'signer')]);
  assert.equal(made.exitCode, 0, made.stderr);
  [keyPem, publicPem] = await Promise.all([
    readFile(join(work, 'signer.key'), 'utf8'),
    readFile(join(work, 'signer.pub'), 'utf8'),
  ]);
  const args = ['build', ...PLATFORMS, '--version', '1.0.0', '--sign', join(work, 'signer.key')];
  const result = await goci([...args, '--push', `${registry.host}/acme/signed`], { cwd: repo });
  assert.equal(result.exitCode, 0, result.stderr);
  signedBuild = JSON.parse(result.stdout).images[0];
});
after(async () => {
  await registry.stop();
  await Promise.all([work, repo].map(removeDirectory));
});

describe('Sigstore bundles', () => {
  test('goci build --push --sign attaches to the index and each platform image one bundle that sigstore-js verifies', async () => {
    assert.ok(keyPem.startsWith('-----BEGIN PRIVATE KEY-----'));
    for (const digest of digestsOf(signedBuild)) {
      const found = await onlyBundleOf('acme/signed', digest);
      assert.deepEqual(verifiedBundleStatement(found.bundle, publicPem), cosignSignStatement(digest));
      const bundle = JSON.parse(found.bundle.toString('utf8'));
      assert.equal(bundle.mediaType, BUNDLE_TYPE);
      assert.deepEqual(bundle.verificationMaterial, { publicKey: { hint: sigstoreKeyHint(publicPem) } });
    }
  });

  test('the referrer is stored as cosign stores one: its artifactType, layer type, annotations and subject', async () => {
    const digest = signedBuild.platforms[0]!.digest;
    const { manifest } = await onlyBundleOf('acme/signed', digest);
    const subject = await registryDocument('acme/signed', digest, OCI_MANIFEST);
    assert.equal(manifest.artifactType, BUNDLE_TYPE);
    assert.deepEqual(
      manifest.layers.map((layer: { mediaType: string }) => layer.mediaType),
      [BUNDLE_TYPE],
    );
    assert.equal(manifest.config.mediaType, 'application/vnd.oci.empty.v1+json');
    assert.deepEqual(manifest.subject, { mediaType: OCI_MANIFEST, digest, size: subject.length });
    assert.deepEqual(manifest.annotations, {
      'dev.sigstore.bundle.content': 'dsse-envelope',
      'dev.sigstore.bundle.predicateType': COSIGN_SIGN,
      // The build's own time (the commit's), not the clock's: the same build signs with the same annotations.
      'org.opencontainers.image.created': '2024-05-01T12:00:00Z',
    });
  });

  test('one changed byte of the signed statement, or another key, and sigstore-js refuses the bundle', async () => {
    const { bundle } = await onlyBundleOf('acme/signed', signedBuild.index.digest);
    const document = JSON.parse(bundle.toString('utf8'));
    const statement = Buffer.from(document.dsseEnvelope.payload, 'base64');
    // The subject digest's last hex digit, changed.
    const changed = Buffer.from(
      statement.toString('utf8').replace(/[0-9a-f]"\}\}/, (end) => `${end[0] === '0' ? '1' : '0'}"}}`),
    );
    assert.notDeepEqual(changed, statement);
    document.dsseEnvelope.payload = changed.toString('base64');
    assert.throws(() => verifiedBundleStatement(Buffer.from(JSON.stringify(document)), publicPem), {
      name: 'VerificationError',
      message: 'signature verification failed',
    });
    const other = await goci(['keygen', '--output', join(work, 'other')]);
    assert.equal(other.exitCode, 0, other.stderr);
    const otherPem = await readFile(join(work, 'other.pub'), 'utf8');
    assert.throws(() => verifiedBundleStatement(bundle, otherPem), /no key with the hint/);
  });

  test('goci verify reports the bundle of each manifest beside its signature', async () => {
    const result = await goci(['verify', `${registry.host}/acme/signed:1.0.0`, '--key', join(work, 'signer.pub')]);
    assert.equal(result.exitCode, 0, result.stderr);
    assert.deepEqual(result.stdout.trim().split('\n').slice(-3), [
      `index ${signedBuild.index.digest}: signature ok, bundle ok`,
      `linux/amd64 ${signedBuild.platforms[0]!.digest}: signature ok, bundle ok`,
      `linux/arm64 ${signedBuild.platforms[1]!.digest}: signature ok, bundle ok`,
    ]);
  });

  test('goci verify oci:DIR checks a signed, attested layout offline; another key fails it', async () => {
    const dist = join(work, 'attested-dist');
    const args = ['build', ...PLATFORMS, '--version', '1.0.2', '--provenance', '--sign', join(work, 'signer.key')];
    const built = await goci([...args, '--dist', dist], { cwd: repo });
    assert.equal(built.exitCode, 0, built.stderr);
    const image = JSON.parse(built.stdout).images[0] as {
      index: { digest: string };
      platforms: { platform: string; digest: string }[];
    };
    const layout = `oci:${join(dist, 'oci')}`;
    const verified = await goci(['verify', layout, '--key', join(work, 'signer.pub'), '--provenance']);
    assert.equal(verified.exitCode, 0, verified.stderr);
    assert.deepEqual(verified.stdout.trim().split('\n'), [
      `index ${image.index.digest}: signature missing, bundle ok`,
      ...image.platforms.map(
        (platform) => `${platform.platform} ${platform.digest}: signature missing, bundle ok, provenance ok`,
      ),
    ]);
    const other = await goci(['keygen', '--output', join(work, 'stranger')]);
    assert.equal(other.exitCode, 0, other.stderr);
    const refused = await goci(['verify', layout, '--key', join(work, 'stranger.pub'), '--provenance']);
    assert.equal(refused.exitCode, 1);
    assert.equal(
      lastLine(refused.stderr),
      `goci: ${layout}: index ${image.index.digest}: signature missing, bundle not-by-this-key ` +
        '(sign it with the key (goci sign), or check that the reference names the image you meant)',
    );
    const rebuild = ['--key', join(work, 'signer.pub'), '--reproduce', '--source', repo];
    const reproduce = await goci(['verify', layout, ...rebuild]);
    assert.equal(reproduce.exitCode, 2);
    assert.equal(
      lastLine(reproduce.stderr),
      `goci: --reproduce ${layout}: rebuilds compare with an image in a registry (push the layout (goci push ` +
        'oci:DIR REPOSITORY), then verify --reproduce the pushed reference)',
    );
  });

  test("goci verify: a bundle about another manifest, over a payload that is not in-toto, or not JSON, isn't one", async () => {
    const result = await goci(
      ['build', ...PLATFORMS, '--version', '1.0.0', '--push', `${registry.host}/acme/misplaced`],
      {
        cwd: repo,
      },
    );
    assert.equal(result.exitCode, 0, result.stderr);
    const [amd64, arm64] = signedBuild.platforms.map((platform) => platform.digest);
    const manifestOf = async (digest: string) => ({
      mediaType: OCI_MANIFEST,
      digest,
      size: (await registryDocument('acme/misplaced', digest, OCI_MANIFEST)).length,
    });
    // The index's own bundle, listed under the amd64 image: signed by the key, about another digest.
    const { bundle } = await onlyBundleOf('acme/signed', signedBuild.index.digest);
    await attachReferrer(registry.url, 'acme/misplaced', await manifestOf(amd64!), BUNDLE_TYPE, bundle, {});
    // Under the arm64 image: the key's signature over a statement about it, but typed as plain text.
    const statement = Buffer.from(JSON.stringify(cosignSignStatement(arm64!)));
    const pae = Buffer.concat([Buffer.from(`DSSEv1 10 text/plain ${statement.length} `), statement]);
    const sig = sign('sha256', pae, { key: keyPem, dsaEncoding: 'der' }).toString('base64');
    const plain = {
      mediaType: BUNDLE_TYPE,
      verificationMaterial: { publicKey: { hint: sigstoreKeyHint(publicPem) } },
      dsseEnvelope: { payload: statement.toString('base64'), payloadType: 'text/plain', signatures: [{ sig }] },
    };
    await attachReferrer(
      registry.url,
      'acme/misplaced',
      await manifestOf(arm64!),
      BUNDLE_TYPE,
      Buffer.from(JSON.stringify(plain)),
      {},
    );
    // Under the index: bytes that are not JSON at all, as anyone who may push can put there.
    const index = {
      mediaType: OCI_INDEX,
      digest: signedBuild.index.digest,
      size: (await registryDocument('acme/misplaced', signedBuild.index.digest, OCI_INDEX)).length,
    };
    await attachReferrer(registry.url, 'acme/misplaced', index, BUNDLE_TYPE, Buffer.from('not json {'), {});
    const verified = await goci(['verify', `${registry.host}/acme/misplaced:1.0.0`, '--key', join(work, 'signer.pub')]);
    assert.equal(verified.exitCode, 1);
    assert.deepEqual(verified.stdout.trim().split('\n'), [
      `index ${signedBuild.index.digest}: signature missing, bundle not-by-this-key`,
      `linux/amd64 ${amd64}: signature missing, bundle other-image`,
      `linux/arm64 ${arm64}: signature missing, bundle not-by-this-key`,
    ]);
  });

  test('--sign without a push signs into the OCI layout; goci push carries the bundles to a registry', async () => {
    const dist = join(work, 'layout-dist');
    const args = ['build', ...PLATFORMS, '--version', '1.0.0', '--sign', join(work, 'signer.key'), '--dist', dist];
    const built = await goci(args, { cwd: repo });
    assert.equal(built.exitCode, 0, built.stderr);
    const image = JSON.parse(built.stdout).images[0] as Built;
    // The same build as the pushed one: the same digests, signed where it lies.
    assert.deepEqual(digestsOf(image), digestsOf(signedBuild));
    // Checked where it lies, before any push: a layout names no repository, so only the bundles count.
    const offline = await goci(['verify', `oci:${join(dist, 'oci')}:1.0.0`, '--key', join(work, 'signer.pub')]);
    assert.equal(offline.exitCode, 0, offline.stderr);
    assert.deepEqual(offline.stdout.trim().split('\n'), [
      `index ${image.index.digest}: signature missing, bundle ok`,
      `linux/amd64 ${image.platforms[0]!.digest}: signature missing, bundle ok`,
      `linux/arm64 ${image.platforms[1]!.digest}: signature missing, bundle ok`,
    ]);
    const pushed = await goci(['push', `oci:${join(dist, 'oci')}:1.0.0`, `${registry.host}/acme/from-layout:1.0.0`]);
    assert.equal(pushed.exitCode, 0, pushed.stderr);
    for (const digest of digestsOf(image)) {
      const bundles = await bundlesOf('acme/from-layout', digest);
      assert.equal(bundles.length, 1);
      assert.deepEqual(verifiedBundleStatement(bundles[0]!.bundle, publicPem), cosignSignStatement(digest));
    }
    // No cosign `.sig` tag: its payload names a repository, which a layout does not have. The bundle alone passes.
    const verified = await goci([
      'verify',
      `${registry.host}/acme/from-layout:1.0.0`,
      '--key',
      join(work, 'signer.pub'),
    ]);
    assert.equal(verified.exitCode, 0, verified.stderr);
    assert.equal(
      verified.stdout.trim().split('\n').at(-1),
      `linux/arm64 ${image.platforms[1]!.digest}: signature missing, bundle ok`,
    );
  });
});

describe('attachments racing to one subject', () => {
  let proxy: RegistryProxy;
  let image: Built;

  before(async () => {
    proxy = await startProxy(registry.url);
    const result = await goci(['build', ...PLATFORMS, '--version', '2.0.0', '--push', `${registry.host}/acme/raced`], {
      cwd: repo,
    });
    assert.equal(result.exitCode, 0, result.stderr);
    image = JSON.parse(result.stdout).images[0];
    for (const name of ['first', 'second']) {
      const made = await goci(['keygen', '--output', join(work, name)]);
      assert.equal(made.exitCode, 0, made.stderr);
    }
  });
  after(() => proxy.stop());

  test('two goci sign processes at once: every fallback index and every .sig keeps both signers', async () => {
    // The first fallback-tag write is held at the proxy until the other process has put its own
    // bundle manifest, so the other reaches the same tag while the first is mid-update.
    let bundlePuts = 0;
    const otherBundlePut = proxy.seen(
      (record) =>
        record.method === 'PUT' && /\/manifests\/sha256:[0-9a-f]{64}$/.test(record.path) && ++bundlePuts === 2,
    );
    proxy.addFault({
      method: 'PUT',
      path: /\/manifests\/sha256-[0-9a-f]{64}$/,
      fault: { kind: 'hold', until: otherBundlePut },
    });
    const env = { ...process.env, GOCI_CACHE_DIR: join(work, 'race-cache') };
    const reference = `${proxy.host}/acme/raced:2.0.0`;
    const runs = await Promise.all(
      ['first', 'second'].map((name) => goci(['sign', reference, '--key', join(work, `${name}.key`)], { env })),
    );
    for (const run of runs) assert.equal(run.exitCode, 0, run.stderr);
    assert.equal(proxy.records.find((record) => record.fault === 'hold')?.status, 201);
    const pems = await Promise.all(['first', 'second'].map((name) => readFile(join(work, `${name}.pub`), 'utf8')));
    const keyByHint = new Map(pems.map((pem) => [sigstoreKeyHint(pem), pem]));
    for (const digest of digestsOf(image)) {
      const bundles = await bundlesOf('acme/raced', digest);
      const hints = bundles.map(
        ({ bundle }) => JSON.parse(bundle.toString('utf8')).verificationMaterial.publicKey.hint,
      );
      assert.deepEqual([...hints].sort(), [...keyByHint.keys()].sort());
      for (const [position, { bundle }] of bundles.entries())
        assert.deepEqual(
          verifiedBundleStatement(bundle, keyByHint.get(hints[position]!)!),
          cosignSignStatement(digest),
        );
      const sig = JSON.parse(
        (await registryDocument('acme/raced', `${digest.replace(':', '-')}.sig`, OCI_MANIFEST)).toString('utf8'),
      );
      assert.equal(sig.layers.length, 2);
    }
  });
});
