import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { cp, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { execa } from 'execa';
import { pack as tarPack, type Header } from 'tar-stream';
import { formatSize } from '../cli/table.js';
import type { BinaryReport } from '../compiler/binary/types.js';
import { findFile } from '../inspect/find-file.js';
import { directoryFiles } from '../inspect/image-files.js';
import { tagInLayout } from '../oci/layout.js';
import type { ImageReport } from '../inspect/read-image.js';
import type { StoredLayer } from '../inspect/read-layout.js';
import { goci, lastLine } from './support/goci.js';
import { skopeoConfig } from './support/oci.js';
import { removeDirectory, temporaryDirectory } from './support/workspace.js';
import { found } from '../common/found.js';

const PLATFORMS = ['linux/amd64', 'linux/arm64', 'linux/arm/v7'];
/** Each platform's binary in dist/bin, and the skopeo overrides that pick its image. */
const TARGETS: Record<string, { binary: string; arch: string; variant?: string }> = {
  'linux/amd64': { binary: 'hello-1.2.3-linux-amd64', arch: 'amd64' },
  'linux/arm64': { binary: 'hello-1.2.3-linux-arm64', arch: 'arm64' },
  'linux/arm/v7': { binary: 'hello-1.2.3-linux-armv7', arch: 'arm', variant: 'v7' },
};
const env = { ...process.env, SOURCE_DATE_EPOCH: '1714564800' };
const CORRUPT_HINT = '(the image is damaged or was changed after it was written: write or copy it again)';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';

interface BuildJson {
  images: {
    tags: string[];
    index: { digest: string; size: number };
    platforms: { platform: string; digest: string; size: number }[];
  }[];
}

let work: string;
let layout: string;
let tarball: string;
let built: BuildJson['images'][number];
let fromLayout: ImageReport;

/** The report with no referrers listed: what a source that stores none (goci's tarball) gives. */
function withoutReferrers(report: ImageReport): ImageReport {
  return { ...report, platforms: report.platforms.map((platform) => ({ ...platform, referrers: [] })) };
}

async function inspectJson(target: string): Promise<ImageReport> {
  const result = await goci(['inspect', '--json', target]);
  assert.equal(result.exitCode, 0, result.stderr);
  return JSON.parse(result.stdout) as ImageReport;
}

async function binaryReport(platform: string): Promise<BinaryReport> {
  const result = await goci(['inspect', '--json', join(work, 'bin', TARGETS[platform]!.binary)]);
  assert.equal(result.exitCode, 0, result.stderr);
  return JSON.parse(result.stdout) as BinaryReport;
}

function blob(dir: string, digest: string): string {
  return join(dir, 'blobs', 'sha256', digest.slice('sha256:'.length));
}

async function readJson(path: string): Promise<Record<string, any>> {
  return JSON.parse(await readFile(path, 'utf8')) as Record<string, any>;
}

/** A failure's exit code and its last line. */
async function failure(target: string): Promise<{ exitCode: number; line: string }> {
  const result = await goci(['inspect', target]);
  return { exitCode: result.exitCode, line: lastLine(result.stderr) };
}

/** A copy of the layout with one byte of one blob flipped; returns the copy and the blob's new digest. */
async function corruptCopy(
  name: string,
  digest: string,
  at: (size: number) => number,
): Promise<{ dir: string; actual: string }> {
  const dir = join(work, name);
  await cp(layout, dir, { recursive: true });
  const path = blob(dir, digest);
  const bytes = await readFile(path);
  bytes[at(bytes.length)]! ^= 0x01;
  await writeFile(path, bytes);
  return { dir, actual: `sha256:${createHash('sha256').update(bytes).digest('hex')}` };
}

before(async () => {
  work = await temporaryDirectory('inspect-image');
  layout = join(work, 'oci');
  tarball = join(work, 'hello.tar');
  const result = await goci(
    [
      'build',
      'examples/hello',
      '--platform',
      PLATFORMS.join(','),
      '--version',
      '1.2.3',
      '--dist',
      work,
      '--tarball',
      tarball,
      // The runtime settings inspect reports, beyond the base's.
      '--arg',
      'serve',
      '--env',
      'MODE=test',
      '--port',
      '8080',
      '--json',
    ],
    { env },
  );
  assert.equal(result.exitCode, 0, result.stderr);
  built = (JSON.parse(result.stdout) as BuildJson).images[0]!;
  fromLayout = await inspectJson(`oci:${layout}:1.2.3`);
});
after(async () => removeDirectory(work));

describe('goci inspect oci:DIR:TAG of the image goci build wrote', () => {
  test('reports the tag, the index and the three platforms with the digests and sizes goci build reported', () => {
    assert.equal(fromLayout.reference, `oci:${layout}:1.2.3`);
    assert.deepEqual(fromLayout.index, { digest: built.index.digest });
    assert.deepEqual(
      fromLayout.platforms.map((platform) => ({
        platform: platform.platform,
        digest: platform.manifest,
        size: platform.size,
      })),
      built.platforms,
    );
    assert.deepEqual(
      fromLayout.platforms.map((platform) => platform.platform),
      PLATFORMS,
    );
  });

  test('has exactly the keys of its JSON shape', () => {
    assert.deepEqual(Object.keys(fromLayout), ['reference', 'index', 'platforms']);
    for (const platform of fromLayout.platforms) {
      assert.deepEqual(Object.keys(platform), [
        'platform',
        'manifest',
        'config',
        'size',
        'labels',
        'entrypoint',
        'cmd',
        'env',
        'user',
        'workingDir',
        'exposedPorts',
        'volumes',
        'stopSignal',
        'binary',
        'referrers',
      ]);
    }
  });

  test("lists each platform's SPDX SBOM, stored under the sha256-<hex> tag, as its one referrer", async () => {
    const index = await readJson(join(layout, 'index.json'));
    for (const platform of fromLayout.platforms) {
      const tagged = found(
        (index.manifests as { digest: string; annotations?: Record<string, string> }[]).find(
          (entry) => entry.annotations?.['org.opencontainers.image.ref.name'] === platform.manifest!.replace(':', '-'),
        ),
        `the index entry tagged for ${platform.platform}`,
      );
      const referrers = (await readJson(blob(layout, tagged.digest))).manifests as { digest: string; size: number }[];
      assert.deepEqual(
        platform.referrers,
        referrers.map((entry) => ({
          digest: entry.digest,
          artifactType: 'application/spdx+json',
          size: entry.size,
          annotations: { 'org.opencontainers.image.created': '2024-05-01T12:00:00Z' },
        })),
      );
      assert.equal(platform.referrers.length, 1);
    }
  });

  for (const platform of PLATFORMS) {
    test(`${platform}: config digest, labels, entrypoint, user and workdir are the image's`, async () => {
      const report = found(
        fromLayout.platforms.find((item) => item.platform === platform),
        `the ${platform} report`,
      );
      const manifest = await readJson(blob(layout, report.manifest!));
      assert.equal(report.config, manifest.config.digest);
      const target = TARGETS[platform]!;
      const config = await skopeoConfig(layout, '1.2.3', {
        arch: target.arch,
        ...(target.variant ? { variant: target.variant } : {}),
      });
      assert.deepEqual(report.labels, config.config.Labels);
      assert.deepEqual(
        { entrypoint: report.entrypoint, user: report.user, workingDir: report.workingDir },
        { entrypoint: config.config.Entrypoint, user: config.config.User, workingDir: config.config.WorkingDir },
      );
      assert.deepEqual(
        { entrypoint: report.entrypoint, user: report.user, workingDir: report.workingDir },
        { entrypoint: ['/usr/local/bin/hello'], user: '65532', workingDir: '/home/nonroot' },
      );
      assert.equal(report.labels['org.opencontainers.image.version'], '1.2.3');
      assert.equal(report.labels['org.opencontainers.image.created'], '2024-05-01T12:00:00Z');
      assert.equal(report.labels['org.opencontainers.image.title'], 'hello');
    });

    test(`${platform}: the binary inside is the one in dist/bin, build info and all`, async () => {
      const report = found(
        fromLayout.platforms.find((item) => item.platform === platform),
        `the ${platform} report`,
      );
      const expected = await binaryReport(platform);
      assert.deepEqual(report.binary, expected);
      assert.equal(report.binary.buildInfo!.path, 'goci.dev/examples/hello');
      assert.equal(report.labels['dev.goci.go.version'], report.binary.buildInfo!.goVersion);
    });
  }

  test("without a tag, the layout's only tag is read", async () => {
    assert.deepEqual(await inspectJson(`oci:${layout}`), fromLayout);
  });

  test('the text form lists the same facts, with the binary as goci inspect prints it', async () => {
    const result = await goci(['inspect', `oci:${layout}:1.2.3`]);
    assert.equal(result.exitCode, 0, result.stderr);
    const blocks = result.stdout.split('\n\n');
    assert.equal(blocks.length, 4);
    assert.equal(blocks[0], `reference:  oci:${layout}:1.2.3\nindex:      ${built.index.digest}`);
    for (const [index, platform] of PLATFORMS.entries()) {
      const report = fromLayout.platforms[index]!;
      const labels = Object.keys(report.labels)
        .sort()
        .map((key) => `  ${key}=${report.labels[key]}`);
      const binaryText = (await goci(['inspect', join(work, 'bin', TARGETS[platform]!.binary)])).stdout
        .trimEnd()
        .split('\n');
      assert.deepEqual(blocks[index + 1]!.trimEnd().split('\n'), [
        `platform:   ${platform}`,
        `manifest:   ${built.platforms[index]!.digest}`,
        `config:     ${report.config}`,
        `size:       ${formatSize(built.platforms[index]!.size)} (${built.platforms[index]!.size} bytes)`,
        'entrypoint: ["/usr/local/bin/hello"]',
        'cmd:        ["serve"]',
        'env:',
        '  PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
        '  SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt',
        '  MODE=test',
        'user:       65532',
        'workdir:    /home/nonroot',
        'ports:      8080/tcp',
        'volumes:    (none)',
        'stopsignal: (not set: SIGTERM)',
        'labels:',
        ...labels,
        'referrers:',
        `  ${report.referrers[0]!.digest} application/spdx+json (${report.referrers[0]!.size} bytes)`,
        '    org.opencontainers.image.created=2024-05-01T12:00:00Z',
        'binary:',
        '  file:      /usr/local/bin/hello',
        ...binaryText.slice(1).map((line) => `  ${line}`),
      ]);
    }
  });
});

describe('the tarball goci build --tarball wrote', () => {
  test("oci-archive:FILE:TAG and oci-archive:FILE give the layout's answer (the tarball holds no SBOMs, so no referrers)", async () => {
    for (const reference of [`oci-archive:${tarball}:1.2.3`, `oci-archive:${tarball}`]) {
      const report = await inspectJson(reference);
      assert.equal(report.reference, `oci-archive:${tarball}:1.2.3`);
      assert.deepEqual({ ...report, reference: '' }, { ...withoutReferrers(fromLayout), reference: '' });
    }
  });

  test("docker-archive:FILE gives the layout's answer for the one platform its manifest.json names", async () => {
    const docker = (await readTarMember(tarball, 'manifest.json')) as { Config: string; RepoTags: string[] }[];
    const expected = fromLayout.platforms.find(
      (platform) => `blobs/sha256/${platform.config.slice(7)}` === docker[0]!.Config,
    );
    assert.ok(expected, 'manifest.json names one of the three configs');
    for (const reference of [`docker-archive:${tarball}`, `docker-archive:${tarball}:hello:1.2.3`]) {
      const report = await inspectJson(reference);
      assert.deepEqual(report, {
        reference: `docker-archive:${tarball}:hello:1.2.3`,
        platforms: [{ ...expected, referrers: [] }],
      });
    }
  });

  test('a docker archive skopeo wrote (uncompressed layers, no manifest) gives the same config, labels and binary', async () => {
    const archive = join(work, 'skopeo-docker.tar');
    await execa('skopeo', [
      'copy',
      '--override-arch',
      'arm64',
      `oci:${layout}:1.2.3`,
      `docker-archive:${archive}:hello:arm64`,
    ]);
    const report = await inspectJson(`docker-archive:${archive}`);
    const expected = fromLayout.platforms[1]!;
    // skopeo records the name as Docker normalises it; the familiar spelling picks it too.
    assert.equal(report.reference, `docker-archive:${archive}:docker.io/library/hello:arm64`);
    assert.deepEqual(
      { ...(await inspectJson(`docker-archive:${archive}:hello:arm64`)), reference: '' },
      { ...report, reference: '' },
    );
    assert.equal(report.index, undefined);
    assert.equal(report.platforms.length, 1);
    const [platform] = report.platforms;
    assert.deepEqual({ ...platform!, size: 0 }, { ...expected, manifest: null, size: 0, referrers: [] });
  });
});

/** One member of an uncompressed tar, parsed as JSON (the test reads goci's own tarball). */
async function readTarMember(path: string, name: string): Promise<unknown> {
  const { stdout } = await execa('tar', ['-xOf', path, name]);
  return JSON.parse(stdout);
}

describe('damaged images and bad references', () => {
  test('a flipped byte in a layer fails with the digest mismatch of that blob', async () => {
    const manifest = await readJson(blob(layout, built.platforms[0]!.digest));
    const layer = manifest.layers[1].digest as string;
    const { dir, actual } = await corruptCopy('corrupt-layer', layer, (size) => size >> 1);
    assert.deepEqual(await failure(`oci:${dir}:1.2.3`), {
      exitCode: 1,
      line: `goci: blob ${layer} (layer 2 of linux/amd64) in the OCI layout ${dir}: digest mismatch, its bytes hash to ${actual} ${CORRUPT_HINT}`,
    });
  });

  test('a flipped byte in a config fails with the digest mismatch of that blob', async () => {
    const config = fromLayout.platforms[2]!.config;
    const { dir, actual } = await corruptCopy('corrupt-config', config, () => 10);
    assert.deepEqual(await failure(`oci:${dir}`), {
      exitCode: 1,
      line: `goci: blob ${config} (config of linux/arm/v7) in the OCI layout ${dir}: digest mismatch, its bytes hash to ${actual} ${CORRUPT_HINT}`,
    });
  });

  test('a missing layout directory', async () => {
    assert.deepEqual(await failure(`oci:${work}/missing`), {
      exitCode: 2,
      line: `goci: OCI layout ${work}/missing does not exist (oci:DIR[:TAG] names an OCI layout directory, such as the dist/oci that goci build writes)`,
    });
  });

  test('a directory that is not a layout', async () => {
    assert.deepEqual(await failure(`oci:${work}/bin`), {
      exitCode: 2,
      line: `goci: ${work}/bin is not an OCI layout: it has no index.json (an OCI layout is a directory or tar that holds oci-layout, index.json and blobs/, such as the dist/oci that goci build writes)`,
    });
  });

  test('an unknown tag lists the tags', async () => {
    assert.deepEqual(await failure(`oci:${layout}:9.9.9`), {
      exitCode: 2,
      line: `goci: tag "9.9.9" is not in the OCI layout ${layout} (its tags: 1.2.3) (name one of its tags, such as oci:${layout}:1.2.3)`,
    });
  });

  test('no tag where the layout has several lists them', async () => {
    const dir = join(work, 'two-tags');
    await cp(layout, dir, { recursive: true });
    await tagInLayout(dir, { mediaType: OCI_INDEX, digest: built.index.digest, size: built.index.size }, 'latest');
    assert.deepEqual(await failure(`oci:${dir}`), {
      exitCode: 2,
      line: `goci: the OCI layout ${dir} holds 2 images (tags: 1.2.3, latest); name one (add the tag, such as oci:${dir}:1.2.3)`,
    });
    assert.equal((await inspectJson(`oci:${dir}:latest`)).platforms[0]!.manifest, built.platforms[0]!.digest);
  });

  test('an unknown transport', async () => {
    assert.deepEqual(await failure('containers-storage:alpine:3.20'), {
      exitCode: 2,
      line: 'goci: unknown image transport "containers-storage" in containers-storage:alpine:3.20 (goci inspect reads oci:DIR[:TAG], oci-archive:FILE[:TAG], docker-archive:FILE[:NAME], docker://REGISTRY/REPO[:TAG|@DIGEST], or a binary\'s path; copy other images into one first, such as skopeo copy docker-daemon:IMAGE oci:DIR:TAG)',
    });
  });

  test('an archive that is missing, or is not a tar, or names an image it does not hold', async () => {
    assert.deepEqual(await failure(`docker-archive:${work}/missing.tar`), {
      exitCode: 2,
      line: `goci: archive ${work}/missing.tar does not exist (docker-archive:FILE names a tar, such as the one goci build --tarball writes)`,
    });
    const binary = join(work, 'bin', TARGETS['linux/amd64']!.binary);
    assert.deepEqual(await failure(`oci-archive:${binary}`), {
      exitCode: 2,
      line: `goci: the archive ${binary} is not a tar archive: its first header has a bad checksum (give a tar written by goci build --tarball, docker save or skopeo copy)`,
    });
    assert.deepEqual(await failure(`docker-archive:${tarball}:hello:9.9.9`), {
      exitCode: 2,
      line: `goci: image "hello:9.9.9" is not in the archive ${tarball} (its images: hello:1.2.3) (name one of them, such as docker-archive:${tarball}:hello:1.2.3)`,
    });
  });

  test('a plain path is still read as a binary', async () => {
    assert.deepEqual(await failure(join(work, 'no-such-binary')), {
      exitCode: 2,
      line: `goci: binary not found: ${join(work, 'no-such-binary')} (Check the path, or build the program first (go build -o <path>).)`,
    });
  });
});

// ---------------------------------------------------------------------------------------------
// How a file is found in layers: synthetic layers, read by findFile directly.

interface Item {
  name: string;
  type?: 'file' | 'directory' | 'symlink' | 'link';
  content?: string;
  linkname?: string;
}

let layerDir: string;
let layerCount = 0;

/** Writes a gzip layer holding `items` into layerDir's blob store, as a manifest would describe it. */
async function layer(items: Item[], options: { diffId?: string } = {}): Promise<StoredLayer> {
  const packer = tarPack();
  const chunks: Buffer[] = [];
  const collected = (async () => {
    for await (const chunk of packer as AsyncIterable<Buffer>) chunks.push(chunk);
  })();
  for (const item of items) {
    const header: Partial<Header> & { name: string } = {
      name: item.name,
      type: item.type ?? 'file',
      mode: 0o755,
      mtime: new Date(0),
    };
    if (item.linkname !== undefined) header.linkname = item.linkname;
    await new Promise<void>((resolve, reject) => {
      if ((item.type ?? 'file') === 'file')
        packer.entry(header, Buffer.from(item.content ?? ''), (error) => (error ? reject(error) : resolve()));
      else packer.entry(header, (error) => (error ? reject(error) : resolve())).end(undefined);
    });
  }
  packer.finalize();
  await collected;
  const tar = Buffer.concat(chunks);
  const gzipped = gzipSync(tar);
  const digest = `sha256:${createHash('sha256').update(gzipped).digest('hex')}`;
  await mkdir(join(layerDir, 'blobs', 'sha256'), { recursive: true });
  await writeFile(blob(layerDir, digest), gzipped);
  layerCount++;
  return {
    path: `blobs/sha256/${digest.slice(7)}`,
    size: gzipped.length,
    digest,
    diffId: options.diffId ?? `sha256:${createHash('sha256').update(tar).digest('hex')}`,
    role: `layer ${layerCount} of the test image`,
  };
}

async function find(
  layers: StoredLayer[],
  path: string,
): Promise<{ path: string; content: string; layer: number } | undefined> {
  const found = await findFile(directoryFiles(layerDir), layers, path, 'the test image');
  return found && { path: found.path, content: found.bytes.toString(), layer: found.layer };
}

describe('finding the entrypoint in layers', () => {
  before(async () => {
    layerDir = await temporaryDirectory('inspect-layers');
  });
  after(async () => removeDirectory(layerDir));

  test('the topmost layer that has the file wins; `./` and `/` prefixes are the same path', async () => {
    const bottom = await layer([
      { name: 'usr/', type: 'directory' },
      { name: 'usr/bin/', type: 'directory' },
      { name: 'usr/bin/app', content: 'old' },
    ]);
    const top = await layer([{ name: './usr/bin/app', content: 'new' }]);
    const other = await layer([{ name: 'etc/passwd', content: 'root' }]);
    assert.deepEqual(await find([bottom, top, other], '/usr/bin/app'), {
      path: '/usr/bin/app',
      content: 'new',
      layer: 1,
    });
    assert.deepEqual(await find([bottom, other], 'usr/bin/app'), { path: '/usr/bin/app', content: 'old', layer: 0 });
    assert.equal(await find([bottom, top], '/usr/bin/other'), undefined);
  });

  test('a whiteout of the file or of a directory above it hides the layers below', async () => {
    const bottom = await layer([{ name: 'usr/bin/app', content: 'old' }]);
    assert.equal(await find([bottom, await layer([{ name: 'usr/bin/.wh.app' }])], '/usr/bin/app'), undefined);
    assert.equal(await find([bottom, await layer([{ name: 'usr/.wh.bin' }])], '/usr/bin/app'), undefined);
    assert.equal(await find([bottom, await layer([{ name: '.wh.usr' }])], '/usr/bin/app'), undefined);
    assert.deepEqual(await find([bottom, await layer([{ name: 'usr/bin/.wh.other' }])], '/usr/bin/app'), {
      path: '/usr/bin/app',
      content: 'old',
      layer: 0,
    });
    // A whiteout hides only what is below it: the file re-added above stays.
    assert.deepEqual(
      await find(
        [bottom, await layer([{ name: 'usr/bin/.wh.app' }]), await layer([{ name: 'usr/bin/app', content: 'again' }])],
        '/usr/bin/app',
      ),
      {
        path: '/usr/bin/app',
        content: 'again',
        layer: 2,
      },
    );
  });

  test('an opaque directory hides what the layers below had in it, not what it holds itself', async () => {
    const bottom = await layer([{ name: 'usr/bin/app', content: 'old' }]);
    assert.equal(
      await find(
        [bottom, await layer([{ name: 'usr/bin/.wh..wh..opq' }, { name: 'usr/bin/sh', content: 'sh' }])],
        '/usr/bin/app',
      ),
      undefined,
    );
    assert.equal(await find([bottom, await layer([{ name: 'usr/.wh..wh..opq' }])], '/usr/bin/app'), undefined);
    assert.deepEqual(
      await find(
        [bottom, await layer([{ name: 'usr/bin/.wh..wh..opq' }, { name: 'usr/bin/app', content: 'fresh' }])],
        '/usr/bin/app',
      ),
      {
        path: '/usr/bin/app',
        content: 'fresh',
        layer: 1,
      },
    );
  });

  test('symlinks of the file and of directories above it are followed, as the runtime would', async () => {
    const base = await layer([
      { name: 'bin', type: 'symlink', linkname: 'usr/bin' },
      { name: 'usr/bin/real', content: 'real' },
      { name: 'usr/local/bin/app', type: 'symlink', linkname: '../../bin/real' },
      { name: 'opt/abs', type: 'symlink', linkname: '/usr/bin/real' },
      { name: 'loop/a', type: 'symlink', linkname: 'b' },
      { name: 'loop/b', type: 'symlink', linkname: 'a' },
    ]);
    const top = await layer([{ name: 'usr/bin/real', content: 'replaced' }]);
    assert.deepEqual(await find([base], '/bin/real'), { path: '/usr/bin/real', content: 'real', layer: 0 });
    assert.deepEqual(await find([base], '/usr/local/bin/app'), { path: '/usr/bin/real', content: 'real', layer: 0 });
    assert.deepEqual(await find([base, top], '/opt/abs'), { path: '/usr/bin/real', content: 'replaced', layer: 1 });
    await assert.rejects(find([base], '/loop/a'), {
      code: 'BAD_ARGUMENT',
      message: '/loop/a in the test image is behind more than 16 links',
    });
  });

  test('a hard link reads its target as the layer that made it saw it', async () => {
    const bottom = await layer([{ name: 'usr/bin/real', content: 'v1' }]);
    const linked = await layer([
      { name: 'usr/bin/real', content: 'v2' },
      { name: 'usr/bin/app', type: 'link', linkname: 'usr/bin/real' },
    ]);
    const top = await layer([{ name: 'usr/bin/real', content: 'v3' }]);
    assert.deepEqual(await find([bottom, linked, top], '/usr/bin/app'), {
      path: '/usr/bin/real',
      content: 'v2',
      layer: 1,
    });
  });

  test('a directory is not a program', async () => {
    const only = await layer([{ name: 'usr/bin/', type: 'directory' }]);
    await assert.rejects(find([only], '/usr/bin'), {
      code: 'BAD_ARGUMENT',
      message: '/usr/bin in the test image is a directory, not a program',
    });
  });

  test("a layer whose tar does not match the config's diff ID fails with a digest mismatch", async () => {
    const wrong = `sha256:${'0'.repeat(64)}`;
    const bad = await layer([{ name: 'usr/bin/app', content: 'x' }], { diffId: wrong });
    await assert.rejects(find([bad], '/usr/bin/app'), (error: Error & { code?: string }) => {
      assert.equal(error.code, 'IO_FAILED');
      assert.match(
        error.message,
        new RegExp(
          `^blob ${bad.digest} \\(${bad.role}\\) in the OCI layout .*: digest mismatch, its tar hashes to sha256:[0-9a-f]{64} where the config's rootfs.diff_ids says ${wrong}$`,
        ),
      );
      return true;
    });
  });
});
