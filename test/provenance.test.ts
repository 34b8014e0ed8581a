import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Ajv } from 'ajv';
import { execa } from 'execa';
import { golangPurl } from '../images/sbom/purl.js';
import { preAuthenticationEncoding } from '../oci/dsse.js';
import { goci, lastLine } from './support/goci.js';
import { goEnvironment, moduleWithDependencies } from './support/module-with-dependencies.js';
import { recompressedCopy } from './support/recompressed-image.js';
import { startRegistry, type RegistryHarness } from './support/registry.js';
import { exampleRepository, git, removeDirectory, temporaryDirectory } from './support/workspace.js';

/**
 * Issue 15 (provenance, first step): `--provenance` attaches a SLSA v1 provenance statement to each
 * platform image, in a DSSE envelope signed with --sign's key. The statement is checked against
 * the in-toto Statement v1 and SLSA Provenance v1 shapes (written here from the specifications),
 * and the signature by openssl over DSSE's pre-authentication encoding.
 */

const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const DSSE = 'application/vnd.dsse.envelope.v1+json';

/** https://github.com/in-toto/attestation/blob/main/spec/v1/resource_descriptor.md: at least one of uri, digest, content. */
const RESOURCE_DESCRIPTOR = {
  type: 'object',
  properties: {
    uri: { type: 'string', minLength: 1 },
    digest: { type: 'object', minProperties: 1, additionalProperties: { type: 'string', pattern: '^[0-9a-f]+$' } },
    name: { type: 'string' },
    downloadLocation: { type: 'string' },
    mediaType: { type: 'string' },
    content: { type: 'string' },
    annotations: { type: 'object' },
  },
  anyOf: [{ required: ['uri'] }, { required: ['digest'] }, { required: ['content'] }],
  additionalProperties: false,
};

/** https://github.com/in-toto/attestation/blob/main/spec/v1/statement.md */
const STATEMENT_V1 = {
  type: 'object',
  required: ['_type', 'subject', 'predicateType', 'predicate'],
  properties: {
    _type: { const: 'https://in-toto.io/Statement/v1' },
    subject: {
      type: 'array',
      minItems: 1,
      items: { ...RESOURCE_DESCRIPTOR, anyOf: undefined, required: ['digest'] },
    },
    predicateType: { type: 'string', format: 'uri' },
    predicate: { type: 'object' },
  },
  additionalProperties: false,
};

/** https://slsa.dev/spec/v1.0/provenance */
const PROVENANCE_V1 = {
  type: 'object',
  required: ['buildDefinition', 'runDetails'],
  additionalProperties: false,
  properties: {
    buildDefinition: {
      type: 'object',
      required: ['buildType', 'externalParameters'],
      additionalProperties: false,
      properties: {
        buildType: { type: 'string', format: 'uri' },
        externalParameters: { type: 'object' },
        internalParameters: { type: 'object' },
        resolvedDependencies: { type: 'array', items: RESOURCE_DESCRIPTOR },
      },
    },
    runDetails: {
      type: 'object',
      required: ['builder'],
      additionalProperties: false,
      properties: {
        builder: {
          type: 'object',
          required: ['id'],
          additionalProperties: false,
          properties: {
            id: { type: 'string', format: 'uri' },
            version: { type: 'object', additionalProperties: { type: 'string' } },
            builderDependencies: { type: 'array', items: RESOURCE_DESCRIPTOR },
          },
        },
        metadata: {
          type: 'object',
          additionalProperties: false,
          properties: {
            invocationId: { type: 'string' },
            startedOn: { type: 'string', format: 'date-time' },
            finishedOn: { type: 'string', format: 'date-time' },
          },
        },
        byproducts: { type: 'array', items: RESOURCE_DESCRIPTOR },
      },
    },
  },
};

const ajv = new Ajv({ strict: false, allErrors: true });
ajv.addFormat('uri', /^[a-z][a-z0-9+.-]*:\S+$/i);
ajv.addFormat('date-time', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/);
const validStatement = ajv.compile(STATEMENT_V1);
const validProvenance = ajv.compile(PROVENANCE_V1);

let registry: RegistryHarness;
let work: string;
let repo: string;
let image: { index: { digest: string }; platforms: { platform: string; digest: string }[] };

async function registryJson(path: string, accept: string): Promise<Record<string, any>> {
  const response = await fetch(`${registry.url}${path}`, { headers: { accept } });
  assert.equal(response.status, 200, path);
  return (await response.json()) as Record<string, any>;
}

/** The digest of the index goci pushed as acme/repro:clean, which a rebuild of its commit makes again. */
async function cleanIndexDigest(): Promise<string> {
  const response = await fetch(`${registry.url}/v2/acme/repro/manifests/clean`, {
    method: 'HEAD',
    headers: { accept: OCI_INDEX },
  });
  return response.headers.get('docker-content-digest') ?? '';
}

/**
 * A copy of acme/repro:`from` recompressed at gzip level 9 (its provenance carried over, `edit`ed),
 * signed, then verified with --reproduce from the clone: the copy's index digest and goci verify's result.
 */
async function reproduceRecompressed(
  from: string,
  to: string,
  edit: (statement: Record<string, any>) => void,
  alter?: (tar: Buffer) => Buffer,
): Promise<{ digest: string; result: Awaited<ReturnType<typeof goci>> }> {
  const keyPem = await readFile(join(work, 'key.pem'), 'utf8');
  const digest = await recompressedCopy({
    registryUrl: registry.url,
    repository: 'acme/repro',
    from,
    to,
    gzipLevel: 9,
    keyPem,
    edit,
    ...(alter ? { alter } : {}),
  });
  const reference = `${registry.host}/acme/repro:${to}`;
  assert.equal((await goci(['sign', reference, '--key', join(work, 'key.pem')])).exitCode, 0);
  const verify = ['--key', join(work, 'key.pub'), '--reproduce', '--source', join(work, 'clone')];
  return { digest, result: await goci(['verify', reference, ...verify]) };
}

/** Records another zlib than this Node's in a carried-over provenance statement. */
const ELSEWHERE = (statement: Record<string, any>): void => {
  statement.predicate.runDetails.builder.version.zlib = '1.2.11-elsewhere';
};

/** The DSSE envelope attached to a platform manifest, found as a client would: through the fallback tag. */
async function envelopeOf(
  digest: string,
  repository = 'acme/prov',
): Promise<{ payloadType: string; payload: string; signatures: any[] }> {
  const referrers = await registryJson(`/v2/${repository}/manifests/${digest.replace(':', '-')}`, OCI_INDEX);
  const entry = (referrers.manifests as { digest: string; artifactType?: string }[]).find(
    (item) => item.artifactType === DSSE,
  );
  assert.ok(entry, 'a DSSE referrer');
  const manifest = await registryJson(`/v2/${repository}/manifests/${entry.digest}`, OCI_MANIFEST);
  assert.equal(manifest.subject.digest, digest);
  const blob = await fetch(`${registry.url}/v2/${repository}/blobs/${manifest.layers[0].digest}`);
  return (await blob.json()) as { payloadType: string; payload: string; signatures: any[] };
}

before(async () => {
  [registry, work, repo] = await Promise.all([
    startRegistry(),
    temporaryDirectory('provenance'),
    exampleRepository('hello', 'provenance-hello'),
  ]);
  const key = join(work, 'key.pem');
  await execa('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', key]);
  await execa('openssl', ['pkey', '-in', key, '-pubout', '-out', join(work, 'key.pub')]);
  const args = ['build', '--platform', 'linux/amd64,linux/arm64', '--version', '1.2.3', '--sbom', 'none', '--json'];
  const result = await goci([...args, '--push', `${registry.host}/acme/prov`, '--provenance', '--sign', key], {
    cwd: repo,
  });
  assert.equal(result.exitCode, 0, result.stderr);
  image = JSON.parse(result.stdout).images[0];
});
after(async () => {
  await registry.stop();
  await Promise.all([work, repo].map(removeDirectory));
});

describe('--provenance', () => {
  test('each platform image has a SLSA v1 statement about exactly its manifest, valid in both shapes', async () => {
    const commit = await git(repo, 'rev-parse', 'HEAD');
    for (const platform of image.platforms) {
      const envelope = await envelopeOf(platform.digest);
      assert.equal(envelope.payloadType, 'application/vnd.in-toto+json');
      const statement = JSON.parse(Buffer.from(envelope.payload, 'base64').toString('utf8'));
      assert.equal(validStatement(statement), true, JSON.stringify(validStatement.errors));
      assert.equal(validProvenance(statement.predicate), true, JSON.stringify(validProvenance.errors));
      assert.equal(statement.predicateType, 'https://slsa.dev/provenance/v1');
      assert.deepEqual(statement.subject, [{ name: 'hello:1.2.3', digest: { sha256: platform.digest.slice(7) } }]);
      const { buildDefinition } = statement.predicate;
      assert.deepEqual(buildDefinition.externalParameters, {
        config: 'goci.yaml',
        directory: '.',
        imageFlags: { format: 'oci' },
        platform: platform.platform,
        version: '1.2.3',
        sbom: 'none',
        mainPackage: 'goci.dev/examples/hello',
      });
      const dependencies = buildDefinition.resolvedDependencies as {
        name?: string;
        uri?: string;
        digest?: Record<string, string>;
      }[];
      assert.deepEqual(dependencies.find((item) => item.name === 'source')?.digest, { gitCommit: commit });
      const { stdout: goVersion } = await execa('go', ['env', 'GOVERSION']);
      assert.equal(dependencies.find((item) => item.name === 'go')?.uri, `pkg:golang/stdlib@${goVersion.slice(2)}`);
    }
  });

  test("the envelope's signature is --sign's key's over DSSE's pre-authentication encoding, as openssl checks it", async () => {
    const envelope = await envelopeOf(image.platforms[0]!.digest);
    assert.equal(envelope.signatures.length, 1);
    const pae = preAuthenticationEncoding(envelope.payloadType, Buffer.from(envelope.payload, 'base64'));
    await writeFile(join(work, 'pae'), pae);
    await writeFile(join(work, 'sig.der'), Buffer.from(envelope.signatures[0].sig, 'base64'));
    const verify = ['dgst', '-sha256', '-verify', 'key.pub', '-signature', 'sig.der'];
    const result = await execa('openssl', [...verify, 'pae'], { cwd: work, reject: false });
    assert.equal(result.stdout.trim(), 'Verified OK');
    await writeFile(join(work, 'pae'), Buffer.concat([pae, Buffer.from(' ')]));
    const changed = await execa('openssl', [...verify, 'pae'], { cwd: work, reject: false });
    assert.notEqual(changed.exitCode, 0);
  });

  test('goci verify --provenance passes each manifest: signed by the key, about exactly itself', async () => {
    const result = await goci([
      'verify',
      `${registry.host}/acme/prov:1.2.3`,
      '--key',
      join(work, 'key.pub'),
      '--provenance',
    ]);
    assert.equal(result.exitCode, 0, result.stderr);
    assert.deepEqual(result.stdout.split('\n'), [
      `index ${image.index.digest}: signature ok, bundle ok`,
      ...image.platforms.map(
        (platform) => `${platform.platform} ${platform.digest}: signature ok, bundle ok, provenance ok`,
      ),
    ]);
  });

  test('goci verify fails with another key, and when the tag is moved to an image nobody signed', async () => {
    await execa(
      'openssl',
      ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', 'other.pem'],
      {
        cwd: work,
      },
    );
    await execa('openssl', ['pkey', '-in', 'other.pem', '-pubout', '-out', 'other.pub'], { cwd: work });
    const other = await goci(['verify', `${registry.host}/acme/prov:1.2.3`, '--key', join(work, 'other.pub')]);
    assert.equal(other.exitCode, 1);
    assert.equal(
      other.stderr.trim().split('\n').at(-1),
      `goci: ${registry.host}/acme/prov:1.2.3: index ${image.index.digest}: signature not-by-this-key, bundle not-by-this-key ` +
        '(sign it with the key (goci sign), or check that the reference names the image you meant)',
    );
    // The same tag, moved: another version of the program, pushed without signing.
    const moved = await goci(
      [
        'build',
        '--platform',
        'linux/amd64',
        '--version',
        '1.2.3',
        '--sbom',
        'none',
        '--tag',
        '1.2.3',
        '--label',
        'moved=yes',
        '--push',
        `${registry.host}/acme/prov`,
        '--json',
      ],
      { cwd: repo },
    );
    assert.equal(moved.exitCode, 0, moved.stderr);
    const movedDigest = JSON.parse(moved.stdout).images[0].index.digest as string;
    assert.notEqual(movedDigest, image.index.digest);
    const result = await goci(['verify', `${registry.host}/acme/prov:1.2.3`, '--key', join(work, 'key.pub')]);
    assert.equal(result.exitCode, 1);
    assert.match(result.stderr, new RegExp(`index ${movedDigest}: signature missing, bundle missing`));
  });

  test('goci verify --reproduce rebuilds the recorded commit from another clone: the same digests', async () => {
    const clone = join(work, 'clone');
    await execa('git', ['clone', '-q', repo, clone]);
    const key = join(work, 'key.pem');
    const args = ['build', '--platform', 'linux/amd64', '--version', '2.0.0', '--provenance', '--sign', key];
    const pushed = await goci([...args, '--push', `${registry.host}/acme/repro:clean`], { cwd: repo });
    assert.equal(pushed.exitCode, 0, pushed.stderr);
    const verify = ['--key', join(work, 'key.pub'), '--reproduce', '--source', clone];
    const result = await goci(['verify', `${registry.host}/acme/repro:clean`, ...verify]);
    assert.equal(result.exitCode, 0, result.stderr);
    assert.match(result.stdout, /^reproduced: yes \(index pushed (sha256:[0-9a-f]{64}), rebuilt \1\)$/m);
    assert.match(result.stdout, /^ {2}linux\/amd64: same$/m);
  });

  test('goci verify --reproduce fails, naming the platform and the first differing layer, for a one-line change', async () => {
    const clone = join(work, 'clone');
    const key = join(work, 'key.pem');
    // Built from the commit plus an uncommitted line: the provenance names the commit, the image is not its.
    await writeFile(join(repo, 'extra.go'), 'package main\n\nvar extra = "one line"\n');
    try {
      const args = ['build', '--platform', 'linux/amd64', '--version', '2.0.0', '--provenance', '--sign', key];
      const pushed = await goci([...args, '--push', `${registry.host}/acme/repro:changed`], { cwd: repo });
      assert.equal(pushed.exitCode, 0, pushed.stderr);
    } finally {
      await execa('rm', ['-f', join(repo, 'extra.go')]);
    }
    const verify = ['--key', join(work, 'key.pub'), '--reproduce', '--source', clone];
    const result = await goci(['verify', `${registry.host}/acme/repro:changed`, ...verify]);
    assert.equal(result.exitCode, 1);
    assert.match(
      result.stderr.trim().split('\n').at(-1) ?? '',
      /^goci: \S+\/acme\/repro:changed: not reproduced: linux\/amd64 differs from layer 1 on \(pushed sha256:[0-9a-f]{64}, rebuilt sha256:[0-9a-f]{64}\) /,
    );
  });

  test('goci verify --reproduce compares diff_ids, and says so, when the image was compressed by another zlib', async () => {
    const { digest, result } = await reproduceRecompressed('clean', 'recompressed', (statement) => {
      ELSEWHERE(statement);
      statement.predicate.buildDefinition.internalParameters.compression.level = 9;
    });
    assert.equal(result.exitCode, 0, result.stderr);
    const here = `zlib ${process.versions.zlib}, format gzip, level 1, memLevel 9, pieceBytes 1048576`;
    assert.deepEqual(result.stdout.trim().split('\n').slice(-3), [
      `reproduced: yes, by diff_ids (index pushed ${digest}, rebuilt ${await cleanIndexDigest()})`,
      `  compressed otherwise when pushed (zlib 1.2.11-elsewhere, format gzip, level 9, memLevel 9, pieceBytes 1048576) than here (${here})`,
      '  linux/amd64: same config and uncompressed layers (diff_ids)',
    ]);
  });

  test('another compression excuses no other content: the image of a changed source still fails', async () => {
    const { result } = await reproduceRecompressed('changed', 'changed-recompressed', ELSEWHERE);
    assert.equal(result.exitCode, 1);
    assert.match(
      lastLine(result.stderr),
      /: not reproduced: linux\/amd64 has other uncompressed layers or config \(pushed sha256:[0-9a-f]{64}, rebuilt /,
    );
  });

  test("layers that do not decompress to the config's diff_ids are not excused by another compression", async () => {
    // Two zero blocks more at the end: the same config, other uncompressed bytes.
    const alter = (tar: Buffer): Buffer => Buffer.concat([tar, Buffer.alloc(1024)]);
    const { result } = await reproduceRecompressed('clean', 'recompressed-altered', ELSEWHERE, alter);
    assert.equal(result.exitCode, 1);
    assert.match(lastLine(result.stderr), /: not reproduced: linux\/amd64 has other uncompressed layers or config /);
  });

  test('recompressed bytes are not excused when the provenance records the very compression goci uses here', async () => {
    const { result } = await reproduceRecompressed('clean', 'recompressed-unexcused', () => undefined);
    assert.equal(result.exitCode, 1);
    assert.match(lastLine(result.stderr), /: not reproduced: linux\/amd64 differs from layer 0 on \(pushed sha256:/);
  });

  test('signing attests each SBOM too; goci verify --sbom finds it signed and about exactly its image', async () => {
    const key = join(work, 'key.pem');
    const args = [
      'build',
      '--platform',
      'linux/amd64',
      '--version',
      '3.0.0',
      '--sbom',
      'spdx',
      '--sign',
      key,
      '--json',
    ];
    const pushed = await goci([...args, '--push', `${registry.host}/acme/attested`], { cwd: repo });
    assert.equal(pushed.exitCode, 0, pushed.stderr);
    const platform = JSON.parse(pushed.stdout).images[0].platforms[0] as { platform: string; digest: string };
    const verify = ['verify', `${registry.host}/acme/attested:3.0.0`, '--key', join(work, 'key.pub'), '--sbom'];
    const result = await goci(verify);
    assert.equal(result.exitCode, 0, result.stderr);
    assert.equal(
      result.stdout.split('\n').at(-1),
      `${platform.platform} ${platform.digest}: signature ok, bundle ok, sbom ok`,
    );
    // The attested document is the very SBOM attached beside it.
    const referrers = await registryJson(`/v2/acme/attested/manifests/${platform.digest.replace(':', '-')}`, OCI_INDEX);
    const plain = (referrers.manifests as { digest: string; artifactType?: string }[]).find(
      (item) => item.artifactType === 'application/spdx+json',
    );
    const manifest = await registryJson(`/v2/acme/attested/manifests/${plain!.digest}`, OCI_MANIFEST);
    const document = await (await fetch(`${registry.url}/v2/acme/attested/blobs/${manifest.layers[0].digest}`)).json();
    const attestation = (referrers.manifests as { digest: string; annotations?: Record<string, string> }[]).find(
      (item) => item.annotations?.['dev.goci.predicate-type'] === 'https://spdx.dev/Document',
    );
    const attested = await registryJson(`/v2/acme/attested/manifests/${attestation!.digest}`, OCI_MANIFEST);
    const envelope = await (await fetch(`${registry.url}/v2/acme/attested/blobs/${attested.layers[0].digest}`)).json();
    const statement = JSON.parse(Buffer.from(envelope.payload, 'base64').toString('utf8'));
    assert.deepEqual(statement.predicate, document);
    assert.equal(statement.subject[0].digest.sha256, platform.digest.slice(7));
  });

  test('resolvedDependencies name every module go version -m lists, replacements and vendored ones included', async () => {
    const workspace = join(work, 'deps');
    const app = await moduleWithDependencies(workspace);
    const env = goEnvironment(workspace);
    await execa('go', ['mod', 'vendor'], { cwd: app, env });
    await execa('git', ['init', '-q', '-b', 'main'], { cwd: app });
    await execa('git', ['add', '-A'], { cwd: app });
    await execa('git', ['-c', 'user.name=t', '-c', 'user.email=t@e', 'commit', '-q', '-m', 'app'], { cwd: app });
    const args = ['build', './cmd/app', '--platform', 'linux/amd64', '--version', '1.0.0', '--sbom', 'none', '--json'];
    const result = await goci([...args, '--provenance', '--push', `${registry.host}/acme/deps`], { cwd: app, env });
    assert.equal(result.exitCode, 0, result.stderr);
    const platform = JSON.parse(result.stdout).images[0].platforms[0] as { digest: string };
    const envelope = await envelopeOf(platform.digest, 'acme/deps');
    const statement = JSON.parse(Buffer.from(envelope.payload, 'base64').toString('utf8'));
    const modules = (statement.predicate.buildDefinition.resolvedDependencies as { uri: string; name?: string }[])
      .filter((item) => item.name === undefined)
      .map(({ uri, annotations }: any) => ({ uri, annotations }));
    // What go itself says the binary holds, read independently of goci.
    const { stdout } = await execa('go', ['version', '-m', join(app, 'dist', 'bin', 'app-1.0.0-linux-amd64')], { env });
    const expected: { uri: string; annotations: Record<string, string> }[] = [];
    let last = { path: '', version: '' };
    for (const line of stdout.split('\n').map((text) => text.trim().split('\t'))) {
      const [kind, path = '', version = '', sum = ''] = line;
      const h1: Record<string, string> = sum ? { h1: sum } : {};
      if (kind === 'dep') {
        last = { path, version };
        expected.push({ uri: golangPurl(path, version), annotations: h1 });
      } else if (kind === '=>') {
        // A replacement: the module it names (a directory keeps the original path), and what it replaces.
        const replaces = `${last.path}@${last.version}`;
        expected[expected.length - 1] = path.startsWith('.')
          ? { uri: golangPurl(last.path), annotations: { directory: path, replaces } }
          : { uri: golangPurl(path, version), annotations: { ...h1, replaces } };
      }
    }
    assert.equal(expected.length, 4);
    assert.deepEqual(
      modules.map((item) => ({ ...item, annotations: item.annotations ?? {} })),
      expected,
    );
  });
});
