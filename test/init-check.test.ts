import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
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

  test('finds an image.files source that is not there', async () => {
    const spec = 'builds:\n  - main: ./cmd/app\nimage:\n  files: [{src: config/app.yaml, dst: /etc/app.yaml}]\n';
    const dir = await repository({ 'goci.yaml': spec });
    const result = await goci(['check'], { cwd: dir });
    assert.notEqual(result.exitCode, 0);
    assert.match(lastLine(result.stderr), /^goci: goci\.yaml: image\.files\[0\]\.src: /);
  });
});
