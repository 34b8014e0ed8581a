import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { after, describe, test } from 'node:test';
import { SCHEMA_COMMENT } from '../spec/json-schema.js';
import { goci, lastLine } from './support/goci.js';
import { monorepos } from './support/monorepo.js';
import { removeDirectory, temporaryDirectory } from './support/workspace.js';

/** Issue 13, point 5: `goci init` writes a goci.yaml a newcomer can start from; `goci check` lints one in CI. */

const repository = monorepos();
/** Other temporary directories of this file. */
const made: string[] = [];
after(() => Promise.all(made.map(removeDirectory)));

const MONOREPO_SPEC = [
  SCHEMA_COMMENT,
  '# What goci builds in example.com/team: `goci check` validates this file, `goci schema` prints its reference.',
  'builds:',
  '  - main: ./cmd/app',
  '    platforms: [linux/amd64, linux/arm64]',
  '  - main: ./cmd/worker',
  '    platforms: [linux/amd64, linux/arm64]',
  'images:                       # one per service; goci publish pushes each to <GOCI_REPO>/<name>',
  '  - binaries: [app]',
  '  - binaries: [worker]',
  '',
].join('\n');

describe('goci init', () => {
  test('writes a build of each main package and an image per service, and git-ignores dist/', async () => {
    const dir = await repository({ '.gitignore': 'node_modules/' });
    const result = await goci(['init'], { cwd: dir });
    assert.equal(result.exitCode, 0, result.stderr);
    assert.equal(
      result.stdout,
      'wrote goci.yaml: ./cmd/app, ./cmd/worker (2 images)\nadded /dist/ to .gitignore: goci writes its outputs there',
    );
    assert.equal(await readFile(join(dir, 'goci.yaml'), 'utf8'), MONOREPO_SPEC);
    assert.equal(await readFile(join(dir, '.gitignore'), 'utf8'), 'node_modules/\n/dist/\n');
  });

  test('a module with one main package at its root gets one image', async () => {
    const dir = await temporaryDirectory('init-one');
    made.push(dir);
    await writeFile(join(dir, 'go.mod'), 'module example.com/one\n\ngo 1.19\n');
    await writeFile(join(dir, 'main.go'), 'package main\n\nfunc main() {}\n');
    const result = await goci(['init'], { cwd: dir });
    assert.equal(result.exitCode, 0, result.stderr);
    const written = await readFile(join(dir, 'goci.yaml'), 'utf8');
    assert.deepEqual(written.split('\n').slice(2), [
      'builds:',
      '  - main: .',
      '    platforms: [linux/amd64, linux/arm64]',
      'image:',
      '  base: static                # static | static:root | scratch | a registry image',
      '',
    ]);
  });

  test('names a root main package by its directory, and leaves out nested modules and //go:build ignore files', async () => {
    const dir = await temporaryDirectory('init-root');
    made.push(dir);
    const program = 'package main\n\nfunc main() {}\n';
    const files: Record<string, string> = {
      'go.mod': 'module example.com/root\n\ngo 1.19\n',
      'main.go': program,
      'cmd/tool/main.go': program,
      'tools/go.mod': 'module example.com/root/tools\n\ngo 1.19\n',
      'tools/lint/main.go': program,
      'internal/gen/gen.go': `//go:build ignore\n\n${program}`,
      'internal/gen/table.go': 'package gen\n',
    };
    for (const [path, text] of Object.entries(files)) {
      await mkdir(dirname(join(dir, path)), { recursive: true });
      await writeFile(join(dir, path), text);
    }
    const result = await goci(['init'], { cwd: dir });
    assert.equal(result.exitCode, 0, result.stderr);
    assert.equal(result.stdout, 'wrote goci.yaml: ., ./cmd/tool (2 images)');
    const written = await readFile(join(dir, 'goci.yaml'), 'utf8');
    assert.deepEqual(written.split('\n').slice(-3), [`  - binaries: [${basename(dir)}]`, '  - binaries: [tool]', '']);
    const checked = await goci(['check', '--version', '1.0.0'], { cwd: dir });
    assert.equal(checked.exitCode, 0, checked.stderr);
    assert.equal(
      checked.stdout,
      `goci.yaml: ok: builds ${basename(dir)} (linux/amd64, linux/arm64), tool (linux/amd64, linux/arm64); ` +
        `images ${basename(dir)}:1.0.0, tool:1.0.0`,
    );
  });

  test('lists every service of a large monorepo', async () => {
    const services = Array.from({ length: 9 }, (_, position) => `svc${position + 1}`);
    const dir = await repository(
      Object.fromEntries(services.map((name) => [`cmd/${name}/main.go`, 'package main\n\nfunc main() {}\n'])),
    );
    const result = await goci(['init'], { cwd: dir });
    assert.equal(result.exitCode, 0, result.stderr);
    const all = ['./cmd/app', ...services.map((name) => `./cmd/${name}`), './cmd/worker'];
    assert.equal(result.stdout, `wrote goci.yaml: ${all.join(', ')} (11 images)`);
  });

  test('an existing goci.yaml is kept unless --force', async () => {
    const dir = await repository({ 'goci.yaml': 'image: {base: scratch}\n' });
    const refused = await goci(['init'], { cwd: dir });
    assert.equal(refused.exitCode, 2);
    assert.equal(
      lastLine(refused.stderr),
      'goci: goci.yaml exists already (edit it (goci check validates it), or give --force to replace it)',
    );
    assert.equal(await readFile(join(dir, 'goci.yaml'), 'utf8'), 'image: {base: scratch}\n');
    assert.equal((await goci(['init', '--force'], { cwd: dir })).exitCode, 0);
    assert.equal(await readFile(join(dir, 'goci.yaml'), 'utf8'), MONOREPO_SPEC);
  });

  test('outside a Go module it says to make one', async () => {
    const dir = await temporaryDirectory('init-none');
    made.push(dir);
    const result = await goci(['init'], { cwd: dir });
    assert.equal(result.exitCode, 2);
    assert.match(
      lastLine(result.stderr),
      /: no go\.mod here or above \(run goci init in a Go module \(go mod init example\.com\/app\)\)$/,
    );
  });
});

describe('goci check', () => {
  test('says what would be built, and builds and writes nothing', async () => {
    const dir = await repository({ 'goci.yaml': MONOREPO_SPEC });
    const result = await goci(['check'], { cwd: dir });
    assert.equal(result.exitCode, 0, result.stderr);
    assert.equal(
      result.stdout,
      'goci.yaml: ok: builds app (linux/amd64, linux/arm64), worker (linux/amd64, linux/arm64); images app:0.3.1, worker:0.3.1',
    );
    assert.equal(existsSync(join(dir, 'dist')), false);
  });

  test('finds a platform this toolchain cannot build, naming where it is written', async () => {
    const dir = await repository({ 'goci.yaml': 'builds:\n  - main: ./cmd/app\n    platforms: [linux/sparc99]\n' });
    const result = await goci(['check'], { cwd: dir });
    assert.equal(result.exitCode, 2);
    assert.equal(
      lastLine(result.stderr),
      'goci: goci.yaml: builds[0].platforms[0]: "linux/sparc99" is not a platform this Go toolchain can build (see: go tool dist list)',
    );
  });

  test('refuses a package that starts no image, naming the image it is a binary of', async () => {
    const spec = `${MONOREPO_SPEC.split('images:')[0]}image:\n  binaries: [app, worker]\n`;
    const dir = await repository({ 'goci.yaml': spec });
    const result = await goci(['check', './cmd/worker'], { cwd: dir });
    assert.equal(result.exitCode, 2);
    assert.equal(
      lastLine(result.stderr),
      'goci: cmd/worker: no image in goci.yaml starts this package; it is a binary of app (image) ' +
        "(name the package that image's entrypoint is, or give this package an image of its own in goci.yaml)",
    );
  });

  test('with --release refuses a development version, as build would', async () => {
    const dir = await repository({ 'goci.yaml': MONOREPO_SPEC });
    await writeFile(join(dir, 'cmd/app/extra.go'), 'package main\n');
    const result = await goci(['check', '--release'], { cwd: dir });
    assert.equal(result.exitCode, 2);
    assert.match(
      lastLine(result.stderr),
      /^goci: --release: version 0\.3\.1\+dirty is built from uncommitted changes /,
    );
  });

  test('finds two images that one --push would write over each other', async () => {
    const dir = await repository({ 'goci.yaml': MONOREPO_SPEC });
    const result = await goci(['check', '--push', '127.0.0.1:5000/one'], { cwd: dir });
    assert.equal(result.exitCode, 2);
    assert.match(
      lastLine(result.stderr),
      /^goci: images app \(goci\.yaml: images\[0\]\) and worker \(goci\.yaml: images\[1\]\) would both be pushed as 127\.0\.0\.1:5000\/one:0\.3\.1 /,
    );
  });

  test('refuses a platform an image cannot hold', async () => {
    const dir = await repository({ 'goci.yaml': MONOREPO_SPEC });
    const result = await goci(['check', '--platform', 'windows/amd64'], { cwd: dir });
    assert.equal(result.exitCode, 2);
    assert.match(
      lastLine(result.stderr),
      /^goci: --platform: goci build makes Linux images and cannot put windows\/amd64 /,
    );
  });

  test('finds an image.files source that is not there', async () => {
    const spec = 'builds:\n  - main: ./cmd/app\nimage:\n  files: [{src: config/app.yaml, dst: /etc/app.yaml}]\n';
    const dir = await repository({ 'goci.yaml': spec });
    const result = await goci(['check'], { cwd: dir });
    assert.notEqual(result.exitCode, 0);
    assert.match(lastLine(result.stderr), /^goci: goci\.yaml: image\.files\[0\]\.src: /);
  });
});
