import assert from 'node:assert/strict';
import { chmod, mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { execa } from 'execa';
import { docker, startDockerd, type DockerdHarness } from './support/dockerd.js';
import { goci, lastLine } from './support/goci.js';
import { goVersionM } from './support/go-version.js';
import { startProxy, type RegistryProxy } from './support/proxy.js';
import { freePort, startRegistry, type RegistryHarness } from './support/registry.js';
import { exampleRepository, listFiles, removeDirectory, temporaryDirectory } from './support/workspace.js';

const USER = 'alice';
const PASSWORD = 'Sup3r-Secret-Pa55';
const PLATFORMS = 'linux/amd64,linux/arm64,linux/arm/v7';
const EPOCH = '1714564800';

interface BuildJson {
  images: {
    index: { digest: string };
    platforms: { platform: string; digest: string }[];
    pushed: {
      reference: string;
      tags: string[];
      blobs: { uploaded: number; mounted: number; present: number; uploadedBytes: number };
      sboms: string[];
    };
  }[];
}

let registry: RegistryHarness;
let proxy: RegistryProxy;
let daemon: DockerdHarness;
let repo: string;
let work: string;
let first: BuildJson;

/** An environment whose docker config.json holds `auths` for the proxy's host. */
async function configWith(name: string, config: object): Promise<NodeJS.ProcessEnv> {
  const dir = join(work, name);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'config.json'), JSON.stringify(config));
  return { ...process.env, DOCKER_CONFIG: dir, SOURCE_DATE_EPOCH: EPOCH, GOCI_CACHE_DIR: join(work, 'cache') };
}

function basicAuths(host: string, user = USER, password = PASSWORD): object {
  return { auths: { [host]: { auth: Buffer.from(`${user}:${password}`).toString('base64') } } };
}

async function push(
  target: string,
  env: NodeJS.ProcessEnv,
  extra: string[] = [],
): Promise<{ exitCode: number; stdout: string; stderr: string; json: BuildJson | undefined }> {
  const result = await goci(
    [
      'build',
      '.',
      '--platform',
      PLATFORMS,
      '--version',
      '1.2.3',
      '--push',
      target,
      '--json',
      '--progress',
      'plain',
      ...extra,
    ],
    { cwd: repo, env },
  );
  return { ...result, json: result.exitCode === 0 ? (JSON.parse(result.stdout) as BuildJson) : undefined };
}

/** Talks to the registry directly (not through goci) with basic auth: the test's own eyes. */
async function registryGet(path: string, accept: string): Promise<Buffer> {
  const response = await fetch(`${registry.url}${path}`, {
    headers: { Accept: accept, Authorization: `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}` },
  });
  assert.equal(response.status, 200, `${path}: ${response.status}`);
  return Buffer.from(await response.arrayBuffer());
}

before(async () => {
  work = await temporaryDirectory('push');
  [registry, daemon, repo] = await Promise.all([
    startRegistry({ auth: { htpasswd: { user: USER, password: PASSWORD } } }),
    startDockerd(),
    exampleRepository('hello', 'push'),
  ]);
  proxy = await startProxy(registry.url);
  first = (await push(`${proxy.host}/acme/hello`, await configWith('auths', basicAuths(proxy.host)))).json!;
});
after(async () => {
  await proxy?.stop();
  await Promise.all([registry?.stop(), daemon?.stop()]);
  await Promise.all([repo, work].map(removeDirectory));
});

describe('goci build --push', () => {
  test('pushes the 3-platform index under the release tags, with credentials from config.json auths', async () => {
    assert.ok(first, 'the first push failed');
    const image = first.images[0]!;
    assert.equal(image.pushed.reference, `${proxy.host}/acme/hello@${image.index.digest}`);
    assert.deepEqual(
      image.pushed.tags,
      ['1.2.3', '1.2', '1', 'latest'].map((tag) => `${proxy.host}/acme/hello:${tag}`),
    );
    const { stdout } = await execa('skopeo', [
      'inspect',
      '--raw',
      '--tls-verify=false',
      '--creds',
      `${USER}:${PASSWORD}`,
      `docker://${registry.host}/acme/hello:1.2.3`,
    ]);
    const index = JSON.parse(stdout) as { manifests: { digest: string; platform: unknown }[] };
    assert.deepEqual(
      index.manifests.map((entry) => entry.digest),
      image.platforms.map((platform) => platform.digest),
    );
    assert.deepEqual(
      index.manifests.map((entry) => entry.platform),
      [
        { architecture: 'amd64', os: 'linux' },
        { architecture: 'arm64', os: 'linux' },
        { architecture: 'arm', os: 'linux', variant: 'v7' },
      ],
    );
  });

  for (const [platform, expected] of [
    ['linux/amd64', '1.2.3 linux amd64'],
    ['linux/arm64', '1.2.3 linux arm64'],
    ['linux/arm/v7', '1.2.3 linux arm'],
  ] as const) {
    test(`docker pull --platform ${platform} and docker run print "${expected}"`, async () => {
      const login = await execa('/usr/bin/docker', ['login', '-u', USER, '--password-stdin', registry.host], {
        env: daemon.env,
        input: PASSWORD,
        reject: false,
      });
      assert.equal(login.exitCode, 0, login.stderr);
      const pulled = await docker(['pull', '--platform', platform, `${registry.host}/acme/hello:1.2.3`], daemon);
      assert.equal(pulled.exitCode, 0, String(pulled.stderr));
      const run = await docker(
        ['run', '--rm', '--network', 'none', '--platform', platform, `${registry.host}/acme/hello:1.2.3`],
        daemon,
      );
      assert.equal(String(run.stdout).split('\n')[0], expected, String(run.stderr));
    });
  }

  test("the same image pushed to a second repository of the registry gets every blob by mount, its SBOMs' too, none uploaded", async () => {
    proxy.reset();
    const copy = (await push(`${proxy.host}/acme/hello-copy`, await configWith('auths', basicAuths(proxy.host)))).json!;
    assert.equal(copy.images[0]!.index.digest, first.images[0]!.index.digest);
    const blobs = first.images[0]!.pushed.blobs.uploaded;
    assert.deepEqual(copy.images[0]!.pushed.blobs, { uploaded: 0, mounted: blobs, present: 0, uploadedBytes: 0 });
    const mounts = proxy.records.filter((record) => record.method === 'POST' && record.url.includes('mount='));
    // The SBOMs' blobs too: one document per platform and the artifacts' shared empty config.
    assert.equal(mounts.length, blobs + first.images[0]!.platforms.length + 1);
    assert.ok(mounts.every((record) => decodeURIComponent(record.url).includes('from=acme/hello')));
    assert.deepEqual(
      proxy.records.filter((record) => record.method === 'PUT' && record.path.includes('/blobs/uploads')),
      [],
    );
  });

  test('a re-push of the unchanged image uploads no blob bytes (measured at the proxy)', async () => {
    proxy.reset();
    const again = (await push(`${proxy.host}/acme/hello`, await configWith('auths', basicAuths(proxy.host)))).json!;
    assert.equal(again.images[0]!.index.digest, first.images[0]!.index.digest);
    const uploads = proxy.records.filter((record) => record.path.includes('/blobs/uploads'));
    assert.deepEqual(uploads, []);
    assert.deepEqual(again.images[0]!.pushed.blobs, {
      uploaded: 0,
      mounted: 0,
      present: first.images[0]!.pushed.blobs.uploaded,
      uploadedBytes: 0,
    });
  });

  test('credentials from a credential helper on PATH', async () => {
    const bin = join(work, 'bin');
    await mkdir(bin, { recursive: true });
    const helper = join(bin, 'docker-credential-goci-test');
    await writeFile(
      helper,
      `#!/bin/sh\nread server\nprintf '{"ServerURL":"%s","Username":"${USER}","Secret":"${PASSWORD}"}' "$server"\n`,
    );
    await chmod(helper, 0o755);
    const env = await configWith('helper', { credHelpers: { [proxy.host]: 'goci-test' } });
    const result = await push(`${proxy.host}/acme/helper`, { ...env, PATH: `${bin}:${process.env.PATH}` });
    assert.equal(result.exitCode, 0, result.stderr);
    assert.equal(result.json!.images[0]!.index.digest, first.images[0]!.index.digest);
  });

  test('each platform gets an SPDX SBOM, found through the sha256-<hex> fallback tag, listing what go version -m lists', async () => {
    const image = first.images[0]!;
    assert.deepEqual(image.pushed.sboms, ['fallback-tag', 'fallback-tag', 'fallback-tag']);
    const arm64 = image.platforms[1]!;
    const referrers = JSON.parse(
      (
        await registryGet(
          `/v2/acme/hello/manifests/sha256-${arm64.digest.slice(7)}`,
          'application/vnd.oci.image.index.v1+json',
        )
      ).toString(),
    ) as { manifests: { digest: string; artifactType: string }[] };
    assert.deepEqual(
      referrers.manifests.map((entry) => entry.artifactType),
      ['application/spdx+json'],
    );
    const artifact = JSON.parse(
      (
        await registryGet(
          `/v2/acme/hello/manifests/${referrers.manifests[0]!.digest}`,
          'application/vnd.oci.image.manifest.v1+json',
        )
      ).toString(),
    ) as { subject: { digest: string }; layers: { digest: string }[] };
    assert.equal(artifact.subject.digest, arm64.digest);
    const sbom = JSON.parse(
      (await registryGet(`/v2/acme/hello/blobs/${artifact.layers[0]!.digest}`, '*/*')).toString(),
    ) as { spdxVersion: string; packages: { name: string; versionInfo: string }[] };
    assert.equal(sbom.spdxVersion, 'SPDX-2.3');
    const reference = await goVersionM(join(repo, 'dist', 'bin', 'hello-1.2.3-linux-arm64'));
    const expected = [
      [reference.mod![0]!, reference.mod![1]!],
      ...reference.deps.map((dep) => [dep[0]!, dep[1]!]),
      ['stdlib', reference.goVersion.replace(/^go/, '')],
    ];
    assert.deepEqual(sbom.packages.map((pkg) => [pkg.name, pkg.versionInfo]).sort(), expected.sort());
  });
});

describe('upload progress', () => {
  test('--progress json reports each blob the registry took, and the totals add up to what the push says', async () => {
    // A cache of its own: with the record of earlier pushes, every blob would be mounted, none uploaded.
    const env = { ...(await configWith('auths', basicAuths(proxy.host))), GOCI_CACHE_DIR: join(work, 'upload-cache') };
    // No SBOMs: their blobs go up as referrers, which pushed.blobs does not count.
    const result = await push(`${proxy.host}/acme/counted`, env, ['--progress', 'json', '--sbom', 'none']);
    assert.equal(result.exitCode, 0, result.stderr);
    const uploads = result.stderr
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as { kind: string; bytes: number; totalBlobs: number; totalBytes: number })
      .filter((event) => event.kind === 'upload');
    const { blobs } = result.json!.images[0]!.pushed;
    assert.ok(blobs.uploaded > 0, JSON.stringify(blobs));
    assert.equal(uploads.length, blobs.uploaded);
    assert.equal(
      uploads.reduce((sum, event) => sum + event.bytes, 0),
      blobs.uploadedBytes,
    );
    assert.deepEqual(
      uploads.map((event) => event.totalBlobs),
      uploads.map((_, position) => position + 1),
    );
    assert.equal(uploads.at(-1)?.totalBytes, blobs.uploadedBytes);
  });
});

describe('for CI', () => {
  test('--image-refs writes the pushed repository@digest, one line per image', async () => {
    const refs = join(work, 'image-refs.txt');
    const result = await push(`${proxy.host}/acme/hello`, await configWith('auths', basicAuths(proxy.host)), [
      '--image-refs',
      refs,
    ]);
    assert.equal(result.exitCode, 0, result.stderr);
    assert.equal(await readFile(refs, 'utf8'), `${proxy.host}/acme/hello@${first.images[0]!.index.digest}\n`);
  });

  test('goci push sends an OCI layout goci build wrote, and it arrives with the same digest', async () => {
    const dist = join(work, 'layout-dist');
    const built = await goci(
      ['build', '.', '--platform', PLATFORMS, '--version', '1.2.3', '--dist', dist, '--progress', 'plain'],
      { cwd: repo, env: await configWith('auths', basicAuths(proxy.host)) },
    );
    assert.equal(built.exitCode, 0, built.stderr);
    const result = await goci(
      ['push', `oci:${join(dist, 'oci')}:1.2.3`, `${proxy.host}/acme/from-layout:edge`, '--json'],
      { env: await configWith('auths', basicAuths(proxy.host)) },
    );
    assert.equal(result.exitCode, 0, result.stderr);
    assert.deepEqual(
      JSON.parse(result.stdout).reference,
      `${proxy.host}/acme/from-layout@${first.images[0]!.index.digest}`,
    );
    const { stdout } = await execa('skopeo', [
      'inspect',
      '--raw',
      '--tls-verify=false',
      '--creds',
      `${USER}:${PASSWORD}`,
      `docker://${registry.host}/acme/from-layout:edge`,
    ]);
    assert.equal(
      `sha256:${(await execa('sha256sum', { input: stdout })).stdout.slice(0, 64)}`,
      first.images[0]!.index.digest,
    );
  });
});

describe('remote bases', () => {
  test("an image on a base from another repository of the same registry mounts the base layers, each read once for its directories' owners, none uploaded", async () => {
    // A cache of its own: the listings of layers other tests built (the static base's) are not there yet.
    const env = { ...(await configWith('auths', basicAuths(proxy.host))), GOCI_CACHE_DIR: join(work, 'listing-cache') };
    proxy.reset();
    const result = await push(`${proxy.host}/acme/on-base`, env, [
      '--base',
      `${proxy.host}/acme/hello:1.2.3`,
      '--sbom',
      'none',
    ]);
    assert.equal(result.exitCode, 0, result.stderr);
    const blobs = result.json!.images[0]!.pushed.blobs;
    assert.ok(blobs.mounted > 0, JSON.stringify(blobs));
    const baseLayers = new Set<string>();
    for (const platform of first.images[0]!.platforms) {
      const manifest = JSON.parse(
        (
          await registryGet(`/v2/acme/hello/manifests/${platform.digest}`, 'application/vnd.oci.image.manifest.v1+json')
        ).toString(),
      ) as { layers: { digest: string }[] };
      for (const layer of manifest.layers) baseLayers.add(layer.digest);
    }
    const mentions = (url: string, digest: string): boolean => decodeURIComponent(url).includes(digest);
    const touched = proxy.records.filter((record) => [...baseLayers].some((digest) => mentions(record.url, digest)));
    assert.deepEqual(
      touched
        .filter((record) => record.method === 'GET')
        .map((record) => record.url)
        .sort(),
      [...baseLayers].map((digest) => `/v2/acme/hello/blobs/${digest}`).sort(),
    );
    assert.equal(
      touched.filter((record) => record.method === 'POST' && record.url.includes('mount=')).length,
      baseLayers.size,
    );
    assert.equal(
      proxy.records.filter(
        (record) =>
          record.method === 'PUT' &&
          record.url.includes('/blobs/uploads/') &&
          [...baseLayers].some((digest) => mentions(record.url, digest)),
      ).length,
      0,
    );
    const config = JSON.parse(
      (
        await execa('skopeo', [
          'inspect',
          '--config',
          '--tls-verify=false',
          '--creds',
          `${USER}:${PASSWORD}`,
          '--override-arch',
          'arm64',
          `docker://${registry.host}/acme/on-base:1.2.3`,
        ])
      ).stdout,
    ) as { rootfs: { diff_ids: string[] } };
    assert.equal(
      config.rootfs.diff_ids.length,
      3,
      "the base's two layers (static base, its binary), then this image's binary layer",
    );
  });

  test('a second image on that base reads none of its layers again: their listings are cached by digest', async () => {
    const env = { ...(await configWith('auths', basicAuths(proxy.host))), GOCI_CACHE_DIR: join(work, 'listing-cache') };
    proxy.reset();
    const base = `${proxy.host}/acme/hello:1.2.3`;
    const result = await push(`${proxy.host}/acme/on-base-again`, env, ['--base', base, '--sbom', 'none']);
    assert.equal(result.exitCode, 0, result.stderr);
    assert.deepEqual(
      proxy.records
        .filter((record) => record.method === 'GET' && record.url.includes('/blobs/sha256:'))
        .map((r) => r.url),
      [],
    );
  });

  test('a platform the base lacks is a clear error listing what it offers', async () => {
    const env = await configWith('auths', basicAuths(proxy.host));
    const result = await goci(
      [
        'build',
        '.',
        '--platform',
        'linux/amd64,linux/s390x',
        '--version',
        '1.2.3',
        '--base',
        `${proxy.host}/acme/hello:1.2.3`,
        '--push',
        `${proxy.host}/acme/nope`,
      ],
      { cwd: repo, env },
    );
    assert.equal(result.exitCode, 2);
    assert.equal(
      lastLine(result.stderr),
      `goci: base image ${proxy.host}/acme/hello:1.2.3 has no linux/s390x image; it offers linux/amd64, linux/arm64, linux/arm/v7 (choose a base that has every target platform, or drop that platform)`,
    );
  });
});

describe('faults on the way', () => {
  test('500s, a 429 with Retry-After and a connection dropped mid-upload: the push completes with the right digests', async () => {
    const env = await configWith('auths', basicAuths(proxy.host));
    proxy.reset();
    proxy.addFault({ method: 'PUT', path: /\/manifests\//, times: 2, fault: { kind: 'status', status: 500 } });
    proxy.addFault({
      method: 'HEAD',
      path: /\/blobs\//,
      fault: { kind: 'status', status: 429, headers: { 'Retry-After': '1' } },
    });
    proxy.addFault({
      method: 'PUT',
      path: /\/blobs\/uploads\//,
      fault: { kind: 'drop-request', afterBytes: 4096, forwardPartial: true },
    });
    // A cache of its own: with the record of earlier pushes, the blobs would be mounted, not uploaded.
    const fresh = { ...env, GOCI_CACHE_DIR: join(work, 'faults-cache') };
    const result = await push(`${proxy.host}/acme/faults`, fresh, ['--sbom', 'none', '--tags', 'faulty']);
    proxy.clearFaults();
    assert.equal(result.exitCode, 0, result.stderr);
    assert.deepEqual(
      proxy.records
        .filter((record) => record.fault)
        .map((record) => record.fault)
        .sort(),
      ['drop-request', 'status', 'status', 'status'],
    );
    const { stdout } = await execa('skopeo', [
      'inspect',
      '--raw',
      '--tls-verify=false',
      '--creds',
      `${USER}:${PASSWORD}`,
      `docker://${registry.host}/acme/faults:faulty`,
    ]);
    assert.equal(
      `sha256:${(await execa('sha256sum', { input: stdout })).stdout.slice(0, 64)}`,
      first.images[0]!.index.digest,
    );
  });

  test('a blob corrupted on the way back fails the pull with a digest error, and no layout is written', async () => {
    const env = await configWith('auths', basicAuths(proxy.host));
    const dist = join(work, 'corrupt-dist');
    proxy.addFault({
      method: 'GET',
      path: /\/blobs\/sha256:/,
      times: 50,
      fault: { kind: 'corrupt-response', at: 100 },
    });
    const result = await goci(
      [
        'build',
        '.',
        '--platform',
        'linux/amd64',
        '--version',
        '1.2.3',
        '--base',
        `${proxy.host}/acme/hello:1.2.3`,
        '--dist',
        dist,
      ],
      { cwd: repo, env: { ...env, GOCI_CACHE_DIR: join(work, 'cold-cache') } },
    );
    proxy.clearFaults();
    assert.equal(result.exitCode, 1);
    assert.match(lastLine(result.stderr), /digest mismatch/);
    assert.ok(!(await listFiles(join(dist, 'oci'))).includes('index.json'), 'the layout was tagged');
  });
});

describe('secrets and errors', () => {
  test('a wrong password with --verbose: no output and no written file holds the password', async () => {
    const wrong = 'Wr0ng-Pa55-for-test';
    const env = await configWith('wrong', basicAuths(proxy.host, USER, wrong));
    const dist = join(work, 'wrong-dist');
    const result = await goci(
      [
        'build',
        '.',
        '--platform',
        'linux/amd64',
        '--version',
        '1.2.3',
        '--push',
        `${proxy.host}/acme/hello`,
        '--verbose',
        '--dist',
        dist,
      ],
      { cwd: repo, env },
    );
    assert.equal(result.exitCode, 1);
    assert.equal(
      lastLine(result.stderr),
      `goci: ${proxy.host}: authentication failed for user ${USER} (401) (check the user name and password or token (from ${join(work, 'wrong', 'config.json')}); goci login ${proxy.host} stores new ones)`,
    );
    const written = await Promise.all((await listFiles(dist)).map((file) => readFile(join(dist, file), 'latin1')));
    for (const text of [result.stdout, result.stderr, ...written]) {
      assert.ok(!text.includes(wrong), 'the password leaked');
      assert.ok(!text.includes(Buffer.from(`${USER}:${wrong}`).toString('base64')), 'the basic credential leaked');
    }
  });

  test('a bad reference', async () => {
    const result = await goci(['build', '.', '--push', 'ghcr.io/Acme/api'], { cwd: repo });
    assert.equal(result.exitCode, 2);
    assert.equal(
      lastLine(result.stderr),
      'goci: "ghcr.io/Acme/api" is not an image reference: "Acme" is not a valid repository name component (lowercase letters, digits, and . _ - between them) (write it as [registry[:port]/]repository[:tag][@sha256:digest], e.g. ghcr.io/acme/api:1.2.3)',
    );
  });

  test('a tag with invalid characters', async () => {
    const result = await goci(['build', '.', '--push', `${proxy.host}/acme/hello`, '--tags', 'good,bad tag'], {
      cwd: repo,
    });
    assert.equal(result.exitCode, 2);
    assert.match(lastLine(result.stderr), /^goci: --tag bad tag: not a valid tag/);
  });

  test('connection refused fails at once (no retry, no wait) and names the host', async () => {
    const port = await freePort();
    // --verbose logs every request and every retry: "at once" is one try and no wait, counted, not timed.
    const target = `127.0.0.1:${port}/acme/hello`;
    const result = await goci(['build', '.', '--push', target, '--verbose', '--progress', 'plain'], { cwd: repo });
    assert.equal(result.exitCode, 1);
    assert.equal(
      lastLine(result.stderr).split(' (')[0],
      `goci: cannot connect to 127.0.0.1:${port}: connection refused`,
    );
    assert.deepEqual(
      result.stderr.split('\n').filter((line) => /retrying/.test(line)),
      [],
    );
    assert.deepEqual(
      await readdir(repo).then((names) => (names.includes('dist') ? listFiles(join(repo, 'dist', 'nothing')) : [])),
      [],
    );
  });
});
