import assert from 'node:assert/strict';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { goci, lastLine } from './support/goci.js';
import { startRegistry, type RegistryHarness } from './support/registry.js';
import { exampleRepository, removeDirectory, temporaryDirectory } from './support/workspace.js';

/**
 * Issue 15: signing keys in cosign's encrypted format (scrypt + NaCl secretbox around PKCS#8).
 * The other side of every check is PyNaCl with Python's scrypt (test/support/nacl-key.py) and
 * openssl, so goci's reading and writing of the format are held against code it does not share.
 */

const NACL_KEY = fileURLToPath(new URL('../../test/support/nacl-key.py', import.meta.url));
// Debian's python3, which has PyNaCl (scripts/prerequisites.sh installs python3-nacl).
const PYTHON = '/usr/bin/python3';
const PASSWORD = 'correct horse battery staple';

let registry: RegistryHarness;
let work: string;
let repo: string;
let reference: string;
let digest: string;

async function run(command: string, args: string[], env: Record<string, string> = {}): Promise<string> {
  const result = await execa(command, args, { cwd: work, env: { ...process.env, ...env }, reject: false });
  assert.equal(result.exitCode, 0, `${command} ${args.join(' ')}: ${result.stderr}`);
  return result.stdout;
}

/** An openssl P-256 key: its PKCS#8 DER and its public key PEM. */
async function opensslKey(name: string): Promise<{ der: string; pub: string }> {
  const pem = join(work, `${name}.pem`);
  await run('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', pem]);
  await run('openssl', ['pkcs8', '-topk8', '-nocrypt', '-in', pem, '-outform', 'DER', '-out', `${name}.der`]);
  await run('openssl', ['pkey', '-in', pem, '-pubout', '-out', `${name}.pub`]);
  return { der: join(work, `${name}.der`), pub: join(work, `${name}.pub`) };
}

/** Seals a DER key the way cosign does, with PyNaCl. */
async function pynaclSeal(block: string, cost: number, der: string, out: string): Promise<void> {
  await run(PYTHON, [NACL_KEY, 'seal', block, String(cost), der, out], { KEY_PASSWORD: PASSWORD });
}

/** Whether openssl finds, among the cosign signatures stored for the image, one by `pub`. */
async function signedBy(pub: string): Promise<boolean> {
  const sig = `${registry.url}/v2/acme/enc/manifests/${digest.replace(':', '-')}.sig`;
  const manifest = (await (
    await fetch(sig, { headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } })
  ).json()) as { layers: { digest: string; annotations: Record<string, string> }[] };
  for (const layer of manifest.layers) {
    const payload = Buffer.from(await (await fetch(`${registry.url}/v2/acme/enc/blobs/${layer.digest}`)).arrayBuffer());
    await writeFile(join(work, 'payload'), payload);
    await writeFile(
      join(work, 'sig.der'),
      Buffer.from(layer.annotations['dev.cosignproject.cosign/signature']!, 'base64'),
    );
    const checked = await execa('openssl', ['dgst', '-sha256', '-verify', pub, '-signature', 'sig.der', 'payload'], {
      cwd: work,
      reject: false,
    });
    if (checked.exitCode === 0) return true;
  }
  return false;
}

before(async () => {
  [registry, work, repo] = await Promise.all([
    startRegistry(),
    temporaryDirectory('encrypted-key'),
    exampleRepository('hello', 'encrypted-key-hello'),
  ]);
  const args = ['build', '--platform', 'linux/amd64', '--version', '1.0.0', '--sbom', 'none', '--json'];
  const result = await goci([...args, '--push', `${registry.host}/acme/enc`], { cwd: repo });
  assert.equal(result.exitCode, 0, result.stderr);
  digest = JSON.parse(result.stdout).images[0].index.digest;
  reference = `${registry.host}/acme/enc@${digest}`;
});
after(async () => {
  await registry.stop();
  await Promise.all([work, repo].map(removeDirectory));
});

describe("cosign's encrypted keys", () => {
  test('a key PyNaCl sealed as cosign does signs with COSIGN_PASSWORD; openssl verifies the signature', async () => {
    const { der, pub } = await opensslKey('sealed');
    await pynaclSeal('ENCRYPTED SIGSTORE PRIVATE KEY', 65536, der, join(work, 'sealed.key'));
    const result = await goci(['sign', reference, '--key', join(work, 'sealed.key')], {
      env: { ...process.env, COSIGN_PASSWORD: PASSWORD },
    });
    assert.equal(result.exitCode, 0, result.stderr);
    assert.equal(await signedBy(pub), true);
  });

  test("cosign's older block type and scrypt cost, the password on standard input", async () => {
    const { der, pub } = await opensslKey('legacy');
    await pynaclSeal('ENCRYPTED COSIGN PRIVATE KEY', 32768, der, join(work, 'legacy.key'));
    const env = { ...process.env };
    delete env.COSIGN_PASSWORD;
    const result = await goci(['sign', reference, '--key', join(work, 'legacy.key')], { env, input: `${PASSWORD}\n` });
    assert.equal(result.exitCode, 0, result.stderr);
    assert.equal(await signedBy(pub), true);
  });

  test('goci keygen --encrypted writes a key PyNaCl opens into the key whose public half goci wrote', async () => {
    const prefix = join(work, 'made');
    const made = await goci(['keygen', '--encrypted', '--output', prefix], {
      env: { ...process.env, COSIGN_PASSWORD: PASSWORD },
    });
    assert.equal(made.exitCode, 0, made.stderr);
    assert.equal(made.stdout, `wrote ${prefix}.key (private, encrypted, 0600) and ${prefix}.pub`);
    assert.equal((await stat(`${prefix}.key`)).mode & 0o777, 0o600);
    const pem = await readFile(`${prefix}.key`, 'utf8');
    assert.match(pem, /^-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n/);
    await run(PYTHON, [NACL_KEY, 'open', `${prefix}.key`, join(work, 'made.der')], { KEY_PASSWORD: PASSWORD });
    const derived = await run('openssl', ['pkey', '-inform', 'DER', '-in', 'made.der', '-pubout']);
    assert.equal(`${derived}\n`, await readFile(`${prefix}.pub`, 'utf8'));
  });

  test('a key sealed with a piped password (its newline too, as cosign takes it) opens with the same word in COSIGN_PASSWORD', async () => {
    const prefix = join(work, 'piped');
    const env = { ...process.env };
    delete env.COSIGN_PASSWORD;
    const made = await goci(['keygen', '--encrypted', '--output', prefix], { env, input: `${PASSWORD}\n` });
    assert.equal(made.exitCode, 0, made.stderr);
    // PyNaCl opens it with the newline: the password is what was piped, byte for byte.
    await run(PYTHON, [NACL_KEY, 'open', `${prefix}.key`, join(work, 'piped.der')], { KEY_PASSWORD: `${PASSWORD}\n` });
    const signed = await goci(['sign', reference, '--key', `${prefix}.key`], {
      env: { ...process.env, COSIGN_PASSWORD: PASSWORD },
    });
    assert.equal(signed.exitCode, 0, signed.stderr);
    assert.equal(await signedBy(`${prefix}.pub`), true);
  });

  test('a wrong password is refused in one line naming the file; neither password appears in any output', async () => {
    const { der } = await opensslKey('wrong');
    await pynaclSeal('ENCRYPTED SIGSTORE PRIVATE KEY', 65536, der, join(work, 'wrong.key'));
    const attempt = 'not the password';
    const result = await goci(['sign', reference, '--key', join(work, 'wrong.key')], {
      env: { ...process.env, COSIGN_PASSWORD: attempt },
    });
    assert.equal(result.exitCode, 2);
    assert.equal(
      lastLine(result.stderr),
      `goci: --key ${join(work, 'wrong.key')}: the password does not open this key ` +
        '(give the password the key was made with, in COSIGN_PASSWORD or on standard input)',
    );
    for (const secret of [attempt, PASSWORD]) assert.ok(!`${result.stdout}${result.stderr}`.includes(secret));
  });

  test('the password appears in no output and no file a signed, attested build writes', async () => {
    const prefix = join(work, 'quiet');
    const env = { ...process.env, COSIGN_PASSWORD: PASSWORD, GOCI_CACHE_DIR: join(work, 'quiet-cache') };
    assert.equal((await goci(['keygen', '--encrypted', '--output', prefix], { env })).exitCode, 0);
    const dist = join(work, 'quiet-dist');
    const args = [
      'build',
      '--platform',
      'linux/amd64',
      '--version',
      '1.0.1',
      '--provenance',
      '--sign',
      `${prefix}.key`,
    ];
    const built = await goci([...args, '--push', `${registry.host}/acme/enc`, '--dist', dist, '--verbose', '--json'], {
      cwd: repo,
      env,
    });
    assert.equal(built.exitCode, 0, built.stderr);
    assert.ok(!`${built.stdout}${built.stderr}`.includes(PASSWORD));
    const written = await execa('grep', ['-rlF', '-e', PASSWORD, dist, join(work, 'quiet-cache')], { reject: false });
    assert.equal(written.stdout, '', `files holding the password: ${written.stdout}`);
  });
});
