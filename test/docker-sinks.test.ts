import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { cp, mkdir, open, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { execa } from 'execa';
import { extract } from 'tar-stream';
import { isGociError } from '../common/errors.js';
import type { Descriptor, OciPlatform } from '../oci/descriptor.js';
import { loadIntoDocker } from '../sinks/docker-client.js';
import { imageIndex, type ImageManifest } from '../oci/manifest.js';
import { MEDIA_TYPES } from '../oci/media-types.js';
import { REF_NAME, blobPath, tagInLayout, writeJsonBlob } from '../oci/layout.js';
import { writeTarball } from '../sinks/tarball-writer.js';
import { docker, startDockerd, type DockerdHarness } from './support/dockerd.js';
import { goci } from './support/goci.js';
import { helloImage } from './support/hello-image.js';
import { removeDirectory, temporaryDirectory } from './support/workspace.js';

const PLATFORMS = ['linux/amd64', 'linux/arm64', 'linux/arm/v7'];
const EPOCH = 1714564800;
const REPOSITORY = 'goci.test/hello';
const AMD64: OciPlatform = { os: 'linux', architecture: 'amd64' };
const ARM64: OciPlatform = { os: 'linux', architecture: 'arm64' };
const ARMV7: OciPlatform = { os: 'linux', architecture: 'arm', variant: 'v7' };

let work: string;
let layout: string;
let images: ImageManifest[];
let index: Descriptor;
let dockerd: DockerdHarness | undefined;

async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

interface TarListing {
  name: string;
  type: string;
  mode: number;
  uid: number;
  gid: number;
  mtime: number;
  uname: string;
  gname: string;
  content: Buffer;
}

async function listTar(path: string): Promise<TarListing[]> {
  const entries: TarListing[] = [];
  const reader = extract();
  const done = (async () => {
    for await (const entry of reader) {
      const chunks: Buffer[] = [];
      for await (const chunk of entry) chunks.push(chunk as Buffer);
      const h = entry.header;
      entries.push({
        name: h.name,
        type: h.type ?? '',
        mode: h.mode ?? -1,
        uid: h.uid ?? -1,
        gid: h.gid ?? -1,
        mtime: h.mtime?.getTime() ?? -1,
        uname: h.uname ?? '',
        gname: h.gname ?? '',
        content: Buffer.concat(chunks),
      });
    }
  })();
  createReadStream(path).pipe(reader);
  await done;
  return entries;
}

/** What `docker run` prints first: the version and target the binary was built for. */
async function runFirstLine(reference: string): Promise<string> {
  const result = await docker(['run', '--rm', '--network', 'none', reference], dockerd!);
  assert.equal(result.exitCode, 0, `docker run ${reference}: ${String(result.stderr)}`);
  return String(result.stdout).split('\n')[0]!;
}

/** Entries of a directory that are not `keep`: leftovers such as temporary siblings. */
async function otherFiles(dir: string, keep: string[]): Promise<string[]> {
  return (await readdir(dir)).filter((name) => !keep.includes(name));
}

before(async () => {
  work = await temporaryDirectory('docker-sinks');
  layout = join(work, 'oci');
  // The daemon starts while goci compiles.
  const starting = startDockerd().then((harness) => (dockerd = harness));
  const compiled = await goci([
    'compile',
    'examples/hello',
    '--platform',
    PLATFORMS.join(','),
    '--version',
    '1.2.3',
    '--dist',
    join(work, 'dist'),
  ]);
  await starting;
  assert.equal(compiled.exitCode, 0, compiled.stderr);
  images = [];
  for (const platform of PLATFORMS) images.push(await helloImage(join(work, 'dist'), layout, platform, EPOCH));
  const indexBlob = imageIndex('oci', images, { 'org.opencontainers.image.version': '1.2.3' });
  await writeJsonBlob(layout, indexBlob);
  index = { mediaType: MEDIA_TYPES.oci.index, digest: indexBlob.digest, size: indexBlob.size };
  await mkdir(join(work, 'out'));
});

after(async () => {
  await dockerd?.stop();
  await removeDirectory(work);
});

describe('the image tarball (an OCI layout and a docker archive in one tar)', () => {
  test('is byte-identical when written twice, and deterministic entry by entry', async () => {
    const first = await writeTarball(
      join(work, 'out', 'first.tar'),
      layout,
      { repository: REPOSITORY, tag: '1.2.3' },
      images,
      index,
      AMD64,
    );
    const second = await writeTarball(
      join(work, 'out', 'second.tar'),
      layout,
      { repository: REPOSITORY, tag: '1.2.3' },
      images,
      index,
      AMD64,
    );
    assert.equal(first.sha256, second.sha256);
    assert.equal(first.size, second.size);
    assert.equal(first.sha256, await sha256File(first.path));
    assert.deepEqual(await readFile(first.path), await readFile(second.path));

    const entries = await listTar(first.path);
    const names = entries.map((entry) => entry.name);
    assert.deepEqual(names, [...names].sort());
    // 3 layers, 3 configs, 3 manifests, 1 index.
    assert.equal(names.filter((name) => /^blobs\/sha256\/[0-9a-f]{64}$/.test(name)).length, 10);
    assert.deepEqual(
      names.filter((name) => !name.startsWith('blobs/sha256/') || name === 'blobs/sha256/'),
      ['blobs/', 'blobs/sha256/', 'index.json', 'manifest.json', 'oci-layout'],
    );
    for (const entry of entries) {
      assert.deepEqual([entry.mtime, entry.uid, entry.gid, entry.uname, entry.gname], [0, 0, 0, '', ''], entry.name);
      assert.equal(entry.mode, entry.type === 'directory' ? 0o755 : 0o644, entry.name);
      if (entry.name.startsWith('blobs/sha256/') && entry.type === 'file') {
        assert.equal(
          createHash('sha256').update(entry.content).digest('hex'),
          entry.name.slice('blobs/sha256/'.length),
        );
      }
    }

    const byName = new Map(entries.map((entry) => [entry.name, entry.content.toString('utf8')]));
    const amd64 = images[0]!;
    assert.deepEqual(JSON.parse(byName.get('manifest.json')!), [
      {
        Config: `blobs/sha256/${amd64.config.digest.slice(7)}`,
        RepoTags: [`${REPOSITORY}:1.2.3`],
        Layers: amd64.layers.map((layer) => `blobs/sha256/${layer.digest.slice(7)}`),
      },
    ]);
    const layoutIndex = JSON.parse(byName.get('index.json')!) as { manifests: Descriptor[] };
    assert.deepEqual(layoutIndex.manifests, [{ ...index, annotations: { [REF_NAME]: '1.2.3' } }]);
    assert.deepEqual(JSON.parse(byName.get('oci-layout')!), { imageLayoutVersion: '1.0.0' });
  });

  test('skopeo reads it as an OCI archive with the 3-platform index, and umoci unpacks an extracted copy', async () => {
    const tarball = await writeTarball(
      join(work, 'out', 'oci.tar'),
      layout,
      { repository: REPOSITORY, tag: '1.2.3' },
      images,
      index,
      AMD64,
    );
    const { stdout } = await execa('skopeo', ['inspect', '--raw', `oci-archive:${tarball.path}:1.2.3`]);
    const read = JSON.parse(stdout) as { manifests: { digest: string; platform: unknown }[] };
    assert.deepEqual(
      read.manifests.map((entry) => entry.platform),
      [
        { architecture: 'amd64', os: 'linux' },
        { architecture: 'arm64', os: 'linux' },
        { architecture: 'arm', os: 'linux', variant: 'v7' },
      ],
    );
    assert.deepEqual(
      read.manifests.map((entry) => entry.digest),
      images.map((entry) => entry.manifest.digest),
    );
    const arm = await execa('skopeo', [
      '--override-arch',
      'arm',
      '--override-variant',
      'v7',
      'inspect',
      `oci-archive:${tarball.path}:1.2.3`,
    ]);
    assert.equal((JSON.parse(arm.stdout) as { Architecture: string }).Architecture, 'arm');

    const extracted = join(work, 'extracted');
    await mkdir(extracted);
    await execa('tar', ['-xf', tarball.path, '-C', extracted]);
    // umoci 0.4.7 cannot pick a platform from an index ("tag is ambiguous"): name the amd64
    // manifest with a tag of its own, which only works if its blobs all came out of the tar.
    await tagInLayout(extracted, images[0]!.descriptor, 'amd64');
    const bundle = join(work, 'bundle');
    const unpacked = await execa('umoci', ['unpack', '--image', `${extracted}:amd64`, bundle], { reject: false });
    assert.equal(unpacked.exitCode, 0, `${unpacked.stdout}\n${unpacked.stderr}`);
    const { stdout: printed } = await execa(join(bundle, 'rootfs', 'usr', 'local', 'bin', 'hello'));
    assert.equal(printed.split('\n')[0], '1.2.3 linux amd64');
  });

  test('a tarball for one manifest (no index) holds only its blobs, and umoci unpacks it as it comes', async () => {
    const arm64 = images[1]!;
    const tarball = await writeTarball(
      join(work, 'out', 'single.tar'),
      layout,
      { repository: REPOSITORY, tag: 'arm64' },
      [arm64],
      arm64.descriptor,
      ARM64,
    );
    const names = (await listTar(tarball.path))
      .map((entry) => entry.name)
      .filter((name) => /^blobs\/sha256\/./.test(name));
    assert.deepEqual(
      names,
      [arm64.manifest.digest, arm64.config.digest, ...arm64.layers.map((layer) => layer.digest)]
        .map((digest) => `blobs/sha256/${digest.slice(7)}`)
        .sort(),
    );
    const { stdout } = await execa('skopeo', ['inspect', '--raw', `oci-archive:${tarball.path}:arm64`]);
    assert.equal(stdout, arm64.manifest.bytes.toString('utf8'));
    const extracted = join(work, 'extracted-single');
    await mkdir(extracted);
    await execa('tar', ['-xf', tarball.path, '-C', extracted]);
    const unpacked = await execa('umoci', ['unpack', '--image', `${extracted}:arm64`, join(work, 'bundle-single')], {
      reject: false,
    });
    assert.equal(unpacked.exitCode, 0, `${unpacked.stdout}\n${unpacked.stderr}`);
  });

  test('a missing blob in the layout fails with NOT_FOUND and leaves no file', async () => {
    const broken = join(work, 'broken-missing');
    await cp(layout, broken, { recursive: true });
    await rm(blobPath(broken, images[1]!.layers[0]!.digest));
    const out = join(work, 'out-missing');
    await mkdir(out);
    await assert.rejects(
      writeTarball(join(out, 'image.tar'), broken, { repository: REPOSITORY, tag: '1.2.3' }, images, index, AMD64),
      (error: unknown) =>
        isGociError(error) &&
        error.code === 'NOT_FOUND' &&
        error.message ===
          `blob ${images[1]!.layers[0]!.digest} (layer of the linux/arm64 image) is missing from the OCI layout ${broken}`,
    );
    assert.deepEqual(await readdir(out), []);
  });

  test('a blob whose bytes do not match its digest fails mid-stream and leaves no file (an older tarball is kept)', async () => {
    const broken = join(work, 'broken-corrupt');
    await cp(layout, broken, { recursive: true });
    // Same size, different content: only the digest check while streaming can notice.
    const victim = blobPath(broken, images[2]!.layers[0]!.digest);
    const handle = await open(victim, 'r+');
    await handle.write(Buffer.from('corrupt'), 0, 7, 100);
    await handle.close();
    const out = join(work, 'out-corrupt');
    await mkdir(out);
    await writeFile(join(out, 'image.tar'), 'previous');
    await assert.rejects(
      writeTarball(join(out, 'image.tar'), broken, { repository: REPOSITORY, tag: '1.2.3' }, images, index, AMD64),
      (error: unknown) =>
        isGociError(error) && error.code === 'IO_FAILED' && error.message.includes(images[2]!.layers[0]!.digest),
    );
    assert.deepEqual(await otherFiles(out, ['image.tar']), []);
    assert.equal(await readFile(join(out, 'image.tar'), 'utf8'), 'previous');
  });

  test('a platform that was not built is refused before anything is written', async () => {
    const out = join(work, 'out-platform');
    await assert.rejects(
      writeTarball(join(out, 'image.tar'), layout, { repository: REPOSITORY, tag: '1.2.3' }, images, index, {
        os: 'linux',
        architecture: 's390x',
      }),
      (error: unknown) =>
        isGociError(error) &&
        error.code === 'BAD_ARGUMENT' &&
        /linux\/s390x.*linux\/amd64, linux\/arm64, linux\/arm\/v7/.test(error.message),
    );
    assert.deepEqual(await readdir(out).catch(() => []), []);
  });
});

describe('docker load of the tarball into Docker 20.10', () => {
  for (const [platform, tag, expected] of [
    [AMD64, '1.2.3-amd64', '1.2.3 linux amd64'],
    [ARM64, '1.2.3-arm64', '1.2.3 linux arm64'],
    [ARMV7, '1.2.3-armv7', '1.2.3 linux arm'],
  ] as const) {
    test(`docker load -i with the ${expected.split(' ').at(-1)} image named, then docker run prints "${expected}"`, async () => {
      const tarball = await writeTarball(
        join(work, 'out', `${tag}.tar`),
        layout,
        { repository: REPOSITORY, tag },
        images,
        index,
        platform,
      );
      const loaded = await docker(['load', '-i', tarball.path], dockerd!);
      assert.equal(loaded.exitCode, 0, String(loaded.stderr));
      assert.match(String(loaded.stdout), new RegExp(`Loaded image: ${REPOSITORY}:${tag}`));
      assert.equal(await runFirstLine(`${REPOSITORY}:${tag}`), expected);
    });
  }

  test('loadIntoDocker loads through dockerode: the image ID is the config digest, docker image inspect shows it', async () => {
    const arm64 = images[1]!;
    const tarball = await writeTarball(
      join(work, 'out', 'dockerode.tar'),
      layout,
      { repository: REPOSITORY, tag: 'via-dockerode' },
      images,
      index,
      ARM64,
    );
    const result = await loadIntoDocker(tarball.path, { socketPath: dockerd!.socket });
    assert.deepEqual(result, { imageId: arm64.config.digest, tags: [`${REPOSITORY}:via-dockerode`] });
    const inspected = await docker(['image', 'inspect', `${REPOSITORY}:via-dockerode`], dockerd!);
    assert.equal(inspected.exitCode, 0, String(inspected.stderr));
    const [info] = JSON.parse(String(inspected.stdout)) as {
      Id: string;
      RepoTags: string[];
      Architecture: string;
      Os: string;
      Config: { Labels: Record<string, string> };
    }[];
    assert.equal(info!.Id, arm64.config.digest);
    // The same image was loaded as 1.2.3-arm64 before: one image ID, two names.
    assert.deepEqual(info!.RepoTags.sort(), [`${REPOSITORY}:1.2.3-arm64`, `${REPOSITORY}:via-dockerode`]);
    assert.deepEqual([info!.Os, info!.Architecture], ['linux', 'arm64']);
    assert.equal(info!.Config.Labels['org.opencontainers.image.version'], '1.2.3');
    assert.equal(await runFirstLine(`${REPOSITORY}:via-dockerode`), '1.2.3 linux arm64');
  });

  test('loadIntoDocker finds the daemon through DOCKER_HOST=unix://…', async () => {
    const tarball = await writeTarball(
      join(work, 'out', 'env.tar'),
      layout,
      { repository: REPOSITORY, tag: 'via-env' },
      images,
      index,
      AMD64,
    );
    const saved = process.env.DOCKER_HOST;
    process.env.DOCKER_HOST = `unix://${dockerd!.socket}`;
    try {
      const result = await loadIntoDocker(tarball.path, {});
      assert.deepEqual(result, { imageId: images[0]!.config.digest, tags: [`${REPOSITORY}:via-env`] });
    } finally {
      if (saved === undefined) delete process.env.DOCKER_HOST;
      else process.env.DOCKER_HOST = saved;
    }
  });

  test("a tar the daemon rejects fails with the daemon's reason on one line", async () => {
    const garbage = join(work, 'out', 'not-an-image.tar');
    await writeFile(garbage, Buffer.alloc(4096, 7));
    await assert.rejects(loadIntoDocker(garbage, { socketPath: dockerd!.socket }), (error: unknown) => {
      assert.ok(isGociError(error));
      assert.equal(error.code, 'IO_FAILED');
      assert.match(error.message, /^docker load of .*not-an-image\.tar into .* failed: \S/);
      assert.ok(!error.message.includes('\n'), error.message);
      return true;
    });
  });

  test('with the socket pointing nowhere, loadIntoDocker fails within 2 s with one line naming the socket', async () => {
    const tarball = join(work, 'out', 'first.tar');
    const nowhere = join(work, 'nowhere.sock');
    const started = performance.now();
    await assert.rejects(loadIntoDocker(tarball, { socketPath: nowhere }), (error: unknown) => {
      assert.ok(isGociError(error));
      assert.equal(error.code, 'DOCKER_UNREACHABLE');
      assert.ok(error.message.includes(nowhere), error.message);
      assert.ok(!error.message.includes('\n'), error.message);
      assert.match(error.hint ?? '', /start dockerd|DOCKER_HOST/);
      return true;
    });
    assert.ok(performance.now() - started < 2000, `took ${Math.round(performance.now() - started)} ms`);
  });
});
