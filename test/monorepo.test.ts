import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { goci, lastLine } from './support/goci.js';
import { monorepos } from './support/monorepo.js';
import { readJson } from './support/oci.js';
import { startRegistry, type RegistryHarness } from './support/registry.js';

/**
 * Issue 13, point 1: a monorepo's images each go to their own repository (goci publish, as ko
 * build), goci.yaml may list several images, and two images never land on one name.
 */

const ONE_PLATFORM = ['--platform', 'linux/amd64', '--sbom', 'none', '--progress', 'plain'];
const RELEASE_TAGS = ['0', '0.3', '0.3.1', 'latest'];
const INDEX = 'application/vnd.oci.image.index.v1+json';

const IMAGES_SPEC = [
  'builds:',
  '  - id: app',
  '    main: ./cmd/app',
  '  - id: worker',
  '    main: ./cmd/worker',
  'images:',
  '  - binaries: [app]',
  '    tags: [edge]',
  '  - repository: team-worker',
  '    binaries: [worker]',
  '    base: scratch',
  '',
].join('\n');

let registry: RegistryHarness;
const repository = monorepos();

before(async () => {
  registry = await startRegistry();
});

after(async () => {
  await registry.stop();
});

/** The registry's own list of repositories (not goci's). */
async function catalog(): Promise<string[]> {
  const body = (await (await fetch(`${registry.url}/v2/_catalog`)).json()) as { repositories?: string[] | null };
  return [...(body.repositories ?? [])].sort();
}

async function registryTags(name: string): Promise<string[]> {
  const body = (await (await fetch(`${registry.url}/v2/${name}/tags/list`)).json()) as { tags?: string[] | null };
  return [...(body.tags ?? [])].sort();
}

/** The digest the registry answers for `repository@digest` (the reference resolves). */
async function resolvedDigest(reference: string): Promise<string | null> {
  const [name, digest] = reference.slice(`${registry.host}/`.length).split('@') as [string, string];
  const response = await fetch(`${registry.url}/v2/${name}/manifests/${digest}`, {
    method: 'HEAD',
    headers: { accept: INDEX },
  });
  return response.ok ? response.headers.get('docker-content-digest') : null;
}

describe('goci publish: each image to its own repository below a prefix', () => {
  test('GOCI_REPO names the prefix: two services get two repositories, each with its release tags', async () => {
    const dir = await repository();
    const env = { ...process.env, GOCI_REPO: `${registry.host}/team` };
    const result = await goci(['publish', './cmd/app', './cmd/worker', ...ONE_PLATFORM], { cwd: dir, env });
    assert.equal(result.exitCode, 0, result.stderr);
    const references = result.stdout.split('\n').filter(Boolean);
    assert.deepEqual(
      references.map((reference) => reference.split('@')[0]),
      [`${registry.host}/team/app`, `${registry.host}/team/worker`],
    );
    for (const reference of references) assert.equal(await resolvedDigest(reference), reference.split('@')[1]);
    assert.deepEqual(await registryTags('team/app'), RELEASE_TAGS);
    assert.deepEqual(await registryTags('team/worker'), RELEASE_TAGS);
  });

  test('--repo-prefix wins over GOCI_REPO', async () => {
    const dir = await repository();
    const env = { ...process.env, GOCI_REPO: `${registry.host}/ignored` };
    const args = ['publish', './cmd/app', '--repo-prefix', `${registry.host}/chosen`, ...ONE_PLATFORM];
    const result = await goci(args, { cwd: dir, env });
    assert.equal(result.exitCode, 0, result.stderr);
    assert.match(result.stdout, new RegExp(`^${registry.host}/chosen/app@sha256:[a-f0-9]{64}$`));
    assert.ok(!(await catalog()).some((name) => name.startsWith('ignored/')));
  });

  test('-P names the repository by the main package import path, as ko does', async () => {
    const dir = await repository();
    const args = ['publish', './cmd/worker', '-P', '--repo-prefix', `${registry.host}/paths`, ...ONE_PLATFORM];
    const result = await goci(args, { cwd: dir });
    assert.equal(result.exitCode, 0, result.stderr);
    assert.equal(result.stdout.split('@')[0], `${registry.host}/paths/example.com/team/cmd/worker`);
  });

  test('--bare with two images is refused before anything compiles: both would be prefix:0.3.1', async () => {
    const dir = await repository();
    const args = ['publish', './cmd/app', './cmd/worker', '--bare', '--repo-prefix', `${registry.host}/bare`];
    const result = await goci([...args, ...ONE_PLATFORM], { cwd: dir });
    assert.equal(result.exitCode, 2);
    assert.equal(
      lastLine(result.stderr),
      `goci: images app (cmd/app) and worker (cmd/worker) would both be pushed as ${registry.host}/bare:0.3.1 ` +
        '(push each image to its own repository with goci publish (GOCI_REPO=registry/team or --repo-prefix), ' +
        'or give the images their own tags (images[].tags in goci.yaml))',
    );
    assert.equal(existsSync(join(dir, 'dist')), false);
  });

  test('without GOCI_REPO or --repo-prefix it says how to give one', async () => {
    const dir = await repository();
    const env = { ...process.env, GOCI_REPO: '' };
    const result = await goci(['publish', './cmd/app', ...ONE_PLATFORM], { cwd: dir, env });
    assert.equal(result.exitCode, 2);
    assert.equal(
      lastLine(result.stderr),
      'goci: goci publish needs a repository prefix to push below ' +
        '(set GOCI_REPO (e.g. GOCI_REPO=ghcr.io/acme) or give --repo-prefix)',
    );
  });

  test('ko-style naming flags that disagree are refused', async () => {
    const result = await goci(['publish', '--bare', '-P', '--repo-prefix', `${registry.host}/x`]);
    assert.equal(result.exitCode, 2);
    assert.equal(
      lastLine(result.stderr),
      'goci: naming: bare and import-path were both asked for (choose one of --naming, --bare, -P, -B)',
    );
  });
});

describe('goci build of several images', () => {
  test('two packages pushed to one repository: refused before compiling, nothing pushed', async () => {
    const dir = await repository();
    const args = ['build', './cmd/app', './cmd/worker', '--push', `${registry.host}/team/x`, ...ONE_PLATFORM];
    const result = await goci(args, { cwd: dir });
    assert.equal(result.exitCode, 2);
    assert.match(
      lastLine(result.stderr),
      new RegExp(
        `^goci: images app \\(cmd/app\\) and worker \\(cmd/worker\\) would both be pushed as ${registry.host}/team/x:0\\.3\\.1 `,
      ),
    );
    assert.ok(!(await catalog()).includes('team/x'));
    assert.equal(existsSync(join(dir, 'dist')), false);
  });

  test('one layout holds several images under name:tag, so none overwrites another', async () => {
    const dir = await repository();
    const result = await goci(['build', './cmd/app', './cmd/worker', ...ONE_PLATFORM], { cwd: dir });
    assert.equal(result.exitCode, 0, result.stderr);
    const index = await readJson(join(dir, 'dist', 'oci', 'index.json'));
    const names = index.manifests.map((entry: any) => entry.annotations['org.opencontainers.image.ref.name']);
    assert.deepEqual(names.sort(), ['app:0.3.1', 'worker:0.3.1']);
  });

  test('a --tarball holds one image: two are refused before compiling', async () => {
    const dir = await repository();
    const args = ['build', './cmd/app', './cmd/worker', '--tarball', 'images.tar', ...ONE_PLATFORM];
    const result = await goci(args, { cwd: dir });
    assert.equal(result.exitCode, 2);
    assert.equal(
      lastLine(result.stderr),
      'goci: --tarball images.tar: holds one image, and this run makes app, worker ' +
        '(build one image per run when writing a tarball (name its package or goci.yaml alone))',
    );
  });
});

describe('images: in goci.yaml, found from a package directory', () => {
  test('each image has its own binaries, tags and base', async () => {
    const dir = await repository({ 'goci.yaml': IMAGES_SPEC });
    const env = { ...process.env, GOCI_REPO: `${registry.host}/listed` };
    const result = await goci(['publish', ...ONE_PLATFORM], { cwd: dir, env });
    assert.equal(result.exitCode, 0, result.stderr);
    assert.deepEqual(await registryTags('listed/app'), ['edge']);
    assert.deepEqual(await registryTags('listed/team-worker'), RELEASE_TAGS);
  });

  test('--json names each image by where it was pushed, and by its goci.yaml name', async () => {
    const dir = await repository({ 'goci.yaml': IMAGES_SPEC });
    const env = { ...process.env, GOCI_REPO: `${registry.host}/named` };
    const result = await goci(['publish', ...ONE_PLATFORM, '--json'], { cwd: dir, env });
    assert.equal(result.exitCode, 0, result.stderr);
    const images = JSON.parse(result.stdout).images as { repository: string; name: string }[];
    assert.deepEqual(
      images.map((image) => [image.repository, image.name]),
      [
        [`${registry.host}/named/app`, 'app'],
        [`${registry.host}/named/team-worker`, 'team-worker'],
      ],
    );
  });

  test('--image-refs without a push is refused before anything compiles', async () => {
    const dir = await repository({ 'goci.yaml': IMAGES_SPEC });
    const result = await goci(['build', './cmd/app', ...ONE_PLATFORM, '--image-refs', 'refs.txt'], { cwd: dir });
    assert.equal(result.exitCode, 2);
    assert.equal(
      lastLine(result.stderr),
      'goci: --image-refs refs.txt: nothing is pushed, so no reference to write ' +
        '(add --push REPOSITORY (or use goci publish), or leave out --image-refs)',
    );
    assert.equal(existsSync(join(dir, 'refs.txt')), false);
    assert.equal(existsSync(join(dir, 'dist')), false);
  });

  test('a package directory below the goci.yaml builds that package with the file settings', async () => {
    const dir = await repository({ 'goci.yaml': IMAGES_SPEC });
    const result = await goci(['build', './cmd/app', ...ONE_PLATFORM, '--json'], { cwd: dir });
    assert.equal(result.exitCode, 0, result.stderr);
    const images = JSON.parse(result.stdout).images as { repository: string; tags: string[] }[];
    assert.deepEqual(
      images.map((image) => [image.repository, image.tags]),
      [['app', ['edge']]],
    );
  });

  test('--config with a package directory builds that package of the file', async () => {
    const dir = await repository({ 'goci.yaml': IMAGES_SPEC });
    const result = await goci(['build', '-c', 'goci.yaml', './cmd/worker', ...ONE_PLATFORM, '--json'], { cwd: dir });
    assert.equal(result.exitCode, 0, result.stderr);
    assert.deepEqual(
      JSON.parse(result.stdout).images.map((image: { repository: string }) => image.repository),
      ['team-worker'],
    );
  });

  test('a package the goci.yaml above it does not build is refused, naming the builds it has', async () => {
    const dir = await repository({ 'goci.yaml': IMAGES_SPEC, 'cmd/tool/main.go': 'package main\n\nfunc main() {}\n' });
    const result = await goci(['build', './cmd/tool', ...ONE_PLATFORM], { cwd: dir });
    assert.equal(result.exitCode, 2);
    assert.equal(
      lastLine(result.stderr),
      'goci: cmd/tool: goci.yaml: builds has no build of this package; its builds are app (./cmd/app), ' +
        'worker (./cmd/worker) (add a build with main: ./cmd/tool to goci.yaml, or name another file with --config)',
    );
  });
});

describe('package patterns: ./cmd/... names every main package below, as go build and ko build read it', () => {
  const TOOL = 'package main\n\nfunc main() {}\n';
  const imagesOf = (stdout: string): string[] =>
    (JSON.parse(stdout).images as { repository: string }[]).map((image) => image.repository);

  test('goci publish ./cmd/... pushes the image of each main package below ./cmd that goci.yaml builds', async () => {
    const dir = await repository({ 'goci.yaml': IMAGES_SPEC, 'cmd/tool/main.go': TOOL });
    const prefix = `${registry.host}/pattern`;
    const result = await goci(['publish', './cmd/...', ...ONE_PLATFORM, '--repo-prefix', prefix], { cwd: dir });
    assert.equal(result.exitCode, 0, result.stderr);
    // ./cmd/tool has no build in goci.yaml: a pattern leaves it out, where naming it alone is refused.
    assert.deepEqual(
      result.stdout
        .split('\n')
        .filter(Boolean)
        .map((line) => line.split('@')[0]),
      [`${prefix}/app`, `${prefix}/team-worker`],
    );
    assert.deepEqual(await catalog().then((names) => names.filter((name) => name.startsWith('pattern/'))), [
      'pattern/app',
      'pattern/team-worker',
    ]);
  });

  test('a second binary of an image is not an image of its own; goci compile ./... builds it all the same', async () => {
    const spec = IMAGES_SPEC.replace('  - binaries: [app]', '  - binaries: [app, tool]').replace(
      'images:',
      '  - id: tool\n    main: ./cmd/tool\nimages:',
    );
    const dir = await repository({ 'goci.yaml': spec, 'cmd/tool/main.go': TOOL });
    const built = await goci(['build', './...', ...ONE_PLATFORM, '--json'], { cwd: dir });
    assert.equal(built.exitCode, 0, built.stderr);
    assert.deepEqual(imagesOf(built.stdout), ['app', 'team-worker']);
    const compiled = await goci(['compile', './cmd/...', '--platform', 'linux/amd64', '--json'], { cwd: dir });
    assert.equal(compiled.exitCode, 0, compiled.stderr);
    const binaries = (JSON.parse(compiled.stdout).binaries as { build: string; platform: string }[]).map(
      (item) => `${item.build} ${item.platform}`,
    );
    assert.deepEqual(binaries.sort(), ['app linux/amd64', 'tool linux/amd64', 'worker linux/amd64']);
  });

  test('nested modules and //go:build ignore programs are not below a pattern, as for the go command', async () => {
    const dir = await repository({
      'goci.yaml': IMAGES_SPEC,
      'cmd/gen/gen.go': `//go:build ignore\n\n${TOOL}`,
      'cmd/other/go.mod': 'module example.com/other\n\ngo 1.19\n',
      'cmd/other/main.go': TOOL,
    });
    const result = await goci(['build', './cmd/...', ...ONE_PLATFORM, '--json'], { cwd: dir });
    assert.equal(result.exitCode, 0, result.stderr);
    assert.deepEqual(imagesOf(result.stdout), ['app', 'team-worker']);
  });

  test('a pattern that finds nothing goci builds says so and what to do', async () => {
    const dir = await repository({ 'goci.yaml': IMAGES_SPEC, 'tools/lint/main.go': TOOL });
    const none = await goci(['build', './tools/...', ...ONE_PLATFORM], { cwd: dir });
    assert.equal(none.exitCode, 2);
    assert.equal(
      lastLine(none.stderr),
      'goci: ./tools/...: no main package at or below it that goci.yaml builds (none of its 1 main packages is ' +
        'built (or starts an image) by goci.yaml: add them there)',
    );
    const missing = await goci(['build', './nope/...', ...ONE_PLATFORM], { cwd: dir });
    assert.equal(missing.exitCode, 2);
    assert.equal(
      lastLine(missing.stderr),
      'goci: ./nope/...: nope is not a directory (a package pattern is a directory and /..., e.g. ./cmd/...)',
    );
    await mkdir(join(dir, 'docs'));
    const empty = await goci(['build', './docs/...', ...ONE_PLATFORM], { cwd: dir });
    assert.equal(empty.exitCode, 2);
    assert.equal(
      lastLine(empty.stderr),
      'goci: ./docs/...: no main package at or below it that goci.yaml builds (name a directory that holds Go main ' +
        'packages (package main), e.g. ./cmd/...)',
    );
  });
});
