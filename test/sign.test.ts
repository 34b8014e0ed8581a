import assert from 'node:assert/strict';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { execa } from 'execa';
import { goci, lastLine } from './support/goci.js';
import { startRegistry, type RegistryHarness } from './support/registry.js';
import { exampleRepository, removeDirectory, temporaryDirectory } from './support/workspace.js';

/**
 * Issue 15 (signatures, first step): `goci sign` stores cosign's signatures, and they are checked
 * by openssl over the exact payload bytes from the registry, not by goci itself.
 */

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';

let registry: RegistryHarness;
let work: string;
let repo: string;
let built: { index: { digest: string }; platforms: { digest: string }[] };

async function openssl(args: string[]): Promise<{ exitCode: number; stdout: string }> {
  const result = await execa('openssl', args, { cwd: work, reject: false });
  return { exitCode: result.exitCode ?? -1, stdout: `${result.stdout}${result.stderr}`.trim() };
}

/** A P-256 key pair made by openssl, not by goci. */
async function opensslKey(name: string): Promise<{ key: string; pub: string }> {
  const key = join(work, `${name}.pem`);
  const pub = join(work, `${name}.pub`);
  assert.equal(
    (await openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', key])).exitCode,
    0,
  );
  assert.equal((await openssl(['pkey', '-in', key, '-pubout', '-out', pub])).exitCode, 0);
  return { key, pub };
}

async function registryJson(path: string, accept = OCI_MANIFEST): Promise<Record<string, any>> {
  const response = await fetch(`${registry.url}${path}`, { headers: { accept } });
  assert.equal(response.status, 200, path);
  return (await response.json()) as Record<string, any>;
}

/** The signatures stored for `digest`: each layer's payload bytes and base64 signature. */
async function signaturesOf(digest: string): Promise<{ payload: Buffer; signature: string }[]> {
  const manifest = await registryJson(`/v2/acme/hello/manifests/${digest.replace(':', '-')}.sig`);
  return Promise.all(
    (manifest.layers as { digest: string; mediaType: string; annotations: Record<string, string> }[]).map(
      async (layer) => {
        assert.equal(layer.mediaType, 'application/vnd.dev.cosign.simplesigning.v1+json');
        const response = await fetch(`${registry.url}/v2/acme/hello/blobs/${layer.digest}`);
        return {
          payload: Buffer.from(await response.arrayBuffer()),
          signature: layer.annotations['dev.cosignproject.cosign/signature']!,
        };
      },
    ),
  );
}

/** openssl's verdict on a signature over `payload` with the public key `pub`. */
async function verified(payload: Buffer, signature: string, pub: string): Promise<boolean> {
  await writeFile(join(work, 'payload'), payload);
  await writeFile(join(work, 'signature.der'), Buffer.from(signature, 'base64'));
  const result = await openssl(['dgst', '-sha256', '-verify', pub, '-signature', 'signature.der', 'payload']);
  return result.exitCode === 0 && result.stdout === 'Verified OK';
}

before(async () => {
  [registry, work, repo] = await Promise.all([
    startRegistry(),
    temporaryDirectory('sign'),
    exampleRepository('hello', 'sign-hello'),
  ]);
  const args = ['build', '--platform', 'linux/amd64,linux/arm64', '--version', '1.2.3', '--sbom', 'none', '--json'];
  const result = await goci([...args, '--push', `${registry.host}/acme/hello`], { cwd: repo });
  assert.equal(result.exitCode, 0, result.stderr);
  built = JSON.parse(result.stdout).images[0];
});
after(async () => {
  await registry.stop();
  await Promise.all([work, repo].map(removeDirectory));
});

describe('goci sign', () => {
  test('signs the index and each platform image; openssl verifies each payload, which names the repository and digest', async () => {
    const { key, pub } = await opensslKey('first');
    const result = await goci(['sign', `${registry.host}/acme/hello:1.2.3`, '--key', key, '--json']);
    assert.equal(result.exitCode, 0, result.stderr);
    const digests = [built.index.digest, ...built.platforms.map((platform) => platform.digest)];
    assert.deepEqual(
      JSON.parse(result.stdout).signed,
      digests.map((digest) => ({ digest, tag: `${digest.replace(':', '-')}.sig`, bundle: 'fallback-tag' })),
    );
    for (const digest of digests) {
      const [stored, ...more] = await signaturesOf(digest);
      assert.equal(more.length, 0);
      assert.deepEqual(JSON.parse(stored!.payload.toString('utf8')), {
        critical: {
          identity: { 'docker-reference': `${registry.host}/acme/hello` },
          image: { 'docker-manifest-digest': digest },
          type: 'cosign container image signature',
        },
        optional: null,
      });
      assert.equal(await verified(stored!.payload, stored!.signature, pub), true);
      // One changed byte: the digest's last hex digit.
      const changed = Buffer.from(
        stored!.payload.toString('utf8').replace(/[0-9a-f]"\}/, (end) => `${end[0] === '0' ? '1' : '0'}"}`),
      );
      assert.notDeepEqual(changed, stored!.payload);
      assert.equal(await verified(changed, stored!.signature, pub), false);
    }
  });

  test('a second key adds its signature beside the first; signing again with the same key adds nothing', async () => {
    const first = await opensslKey('merge-first');
    const second = await opensslKey('merge-second');
    const reference = `${registry.host}/acme/hello@${built.platforms[0]!.digest}`;
    for (const key of [first.key, second.key, second.key])
      assert.equal((await goci(['sign', reference, '--key', key])).exitCode, 0);
    const all = await signaturesOf(built.platforms[0]!.digest);
    // The first test's signature, then one of each key here.
    assert.equal(all.length, 3);
    const stored = all.slice(-2);
    assert.equal(await verified(stored[0]!.payload, stored[0]!.signature, first.pub), true);
    assert.equal(await verified(stored[1]!.payload, stored[1]!.signature, second.pub), true);
  });

  test('goci keygen writes a key only its owner reads, which openssl reads and whose signatures it verifies', async () => {
    const prefix = join(work, 'made');
    const made = await goci(['keygen', '--output', prefix]);
    assert.equal(made.exitCode, 0, made.stderr);
    assert.equal((await stat(`${prefix}.key`)).mode & 0o777, 0o600);
    const pem = await readFile(`${prefix}.key`, 'utf8');
    assert.match(pem, /^-----BEGIN PRIVATE KEY-----\n/);
    assert.ok(!made.stdout.includes(pem.split('\n')[1]!));
    const derived = await openssl(['pkey', '-in', `${prefix}.key`, '-pubout']);
    assert.equal(`${derived.stdout}\n`, await readFile(`${prefix}.pub`, 'utf8'));
    const reference = `${registry.host}/acme/hello@${built.platforms[1]!.digest}`;
    const signed = await goci(['sign', reference, '--key', `${prefix}.key`]);
    assert.equal(signed.exitCode, 0, signed.stderr);
    assert.ok(!`${signed.stdout}${signed.stderr}`.includes(pem.split('\n')[1]!));
    const stored = (await signaturesOf(built.platforms[1]!.digest)).at(-1)!;
    assert.equal(await verified(stored.payload, stored.signature, `${prefix}.pub`), true);
    const again = await goci(['keygen', '--output', prefix]);
    assert.equal(again.exitCode, 2);
    assert.equal(await readFile(`${prefix}.key`, 'utf8'), pem);
  });

  test('a key that is not EC P-256 is refused before anything is pushed, without its contents', async () => {
    const rsa = join(work, 'rsa.pem');
    assert.equal(
      (await openssl(['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', rsa])).exitCode,
      0,
    );
    const result = await goci(['sign', `${registry.host}/acme/hello:1.2.3`, '--key', rsa]);
    assert.equal(result.exitCode, 2);
    assert.equal(
      lastLine(result.stderr),
      `goci: --key ${rsa}: not an EC P-256 key (rsa) (give a PEM EC P-256 private key (goci keygen, ` +
        'cosign generate-key-pair, or openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256))',
    );
  });

  test('goci build --push --sign signs what it pushed: the index and each platform image', async () => {
    const { key, pub } = await opensslKey('build');
    const args = ['build', '--platform', 'linux/amd64,linux/arm64', '--version', '1.2.4', '--sbom', 'none', '--json'];
    const result = await goci([...args, '--push', `${registry.host}/acme/hello`, '--sign', key], { cwd: repo });
    assert.equal(result.exitCode, 0, result.stderr);
    const image = JSON.parse(result.stdout).images[0] as typeof built & { signed: { digest: string }[] };
    const digests = [image.index.digest, ...image.platforms.map((platform) => platform.digest)];
    assert.deepEqual(
      image.signed.map((item) => item.digest),
      digests,
    );
    for (const digest of digests) {
      const [stored] = await signaturesOf(digest);
      assert.equal(await verified(stored!.payload, stored!.signature, pub), true);
    }
  });

  test('the private key appears in no output and no file goci writes but the key file itself', async () => {
    const prefix = join(work, 'secret');
    assert.equal((await goci(['keygen', '--output', prefix])).exitCode, 0);
    const pem = await readFile(`${prefix}.key`, 'utf8');
    const secretLines = pem.split('\n').filter((line) => line !== '' && !line.startsWith('-----'));
    const cache = join(work, 'secret-cache');
    const dist = join(work, 'secret-dist');
    const env = { ...process.env, GOCI_CACHE_DIR: cache };
    const args = [
      'build',
      '--platform',
      'linux/amd64',
      '--version',
      '3.0.0',
      '--provenance',
      '--sign',
      `${prefix}.key`,
    ];
    const runs = [
      await goci(
        [
          ...args,
          '--push',
          `${registry.host}/acme/hello`,
          '--dist',
          dist,
          '--oci-layout',
          join(dist, 'oci'),
          '--verbose',
          '--json',
        ],
        {
          cwd: repo,
          env,
        },
      ),
      await goci(['sign', `${registry.host}/acme/hello:3.0.0`, '--key', `${prefix}.key`, '--verbose', '--json'], {
        env,
      }),
      // A failure prints what went wrong, never the key.
      await goci(['sign', `${registry.host}/acme/nothing:1`, '--key', `${prefix}.key`, '--json'], { env }),
    ];
    const written = await execa('grep', ['-rlF', '-e', secretLines[1]!, dist, cache], { reject: false });
    assert.equal(written.stdout, '', `files holding the key: ${written.stdout}`);
    for (const result of runs)
      for (const line of secretLines)
        assert.ok(!`${result.stdout}${result.stderr}`.includes(line), 'the key was printed');
    assert.equal(runs[0]!.exitCode, 0, runs[0]!.stderr);
    assert.notEqual(runs[2]!.exitCode, 0);
  });
});
