import assert from 'node:assert/strict';
import { mkdir, realpath, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { hostGoarch } from '../compiler/platform.js';
import { goci, lastLine } from './support/goci.js';
import { layerHeaders } from './support/layer-entries.js';
import { listFiles, removeDirectory, temporaryDirectory } from './support/workspace.js';

/**
 * Issue 10, break 2 (image.files stays in the build context) and 4 (builds[].dir and main too),
 * seen from what works: links inside a copied tree are stored as links, a source that is a link
 * inside the context is copied, --context widens the context; and compile checks dir as build does.
 */

const GO_MOD = 'module example.com/app\n\ngo 1.19\n';
const MAIN = 'package main\n\nfunc main() { println("hi") }\n';
let work: string;

before(async () => {
  work = await realpath(await temporaryDirectory('context'));
});
after(async () => removeDirectory(work));

/** `parent/app` holding a main package and this goci.yaml, and `parent/shared/config.txt`. */
async function project(name: string, yaml: string): Promise<{ parent: string; app: string }> {
  const parent = join(work, name);
  const app = join(parent, 'app');
  await mkdir(join(app, 'web', 'sub'), { recursive: true });
  await mkdir(join(parent, 'shared'), { recursive: true });
  await writeFile(join(parent, 'shared', 'config.txt'), 'shared\n');
  await writeFile(join(app, 'go.mod'), GO_MOD);
  await writeFile(join(app, 'main.go'), MAIN);
  await writeFile(join(app, 'goci.yaml'), yaml);
  await writeFile(join(app, 'web', 'index.html'), '<h1>hi</h1>\n');
  return { parent, app };
}

function cacheEnv(): NodeJS.ProcessEnv {
  return { ...process.env, GOCI_CACHE_DIR: join(work, 'cache') };
}

async function build(app: string, ...args: string[]): Promise<void> {
  const env = cacheEnv();
  const flags = ['--version', '1.2.3', '--platform', `linux/${hostGoarch()}`, '--sbom', 'none'];
  const result = await goci(['build', ...flags, ...args], { cwd: app, env });
  assert.equal(result.exitCode, 0, result.stderr);
}

/** The entries of the image.files layer below /srv, as `type name [-> target]`. */
async function srvEntries(app: string): Promise<string[]> {
  const headers = await layerHeaders(join(app, 'dist', 'oci'), '1.2.3', hostGoarch());
  return headers
    .filter((header) => header.name.startsWith('srv/'))
    .map((header) => `${header.type} ${header.name}${header.linkname ? ` -> ${header.linkname}` : ''}`);
}

describe('the build context', () => {
  test('symlinks inside a copied directory are stored as symlinks, not followed', async () => {
    const { app } = await project('links', 'image:\n  files:\n    - {src: web, dst: /srv/web}\n');
    await symlink('index.html', join(app, 'web', 'home.html'));
    await symlink('../index.html', join(app, 'web', 'sub', 'up.html'));
    await symlink('../../main.go', join(app, 'web', 'sub', 'source.go'));
    await build(app);
    assert.deepEqual(await srvEntries(app), [
      'directory srv/',
      'directory srv/web/',
      'symlink srv/web/home.html -> index.html',
      'file srv/web/index.html',
      'directory srv/web/sub/',
      'symlink srv/web/sub/source.go -> ../../main.go',
      'symlink srv/web/sub/up.html -> ../index.html',
    ]);
  });

  test('a dangling symlink that would stay inside the context is stored as it is', async () => {
    const { app } = await project('dangling', 'image:\n  files:\n    - {src: web, dst: /srv/web}\n');
    await symlink('missing.html', join(app, 'web', 'dangling.html'));
    await build(app);
    assert.deepEqual(await srvEntries(app), [
      'directory srv/',
      'directory srv/web/',
      'symlink srv/web/dangling.html -> missing.html',
      'file srv/web/index.html',
      'directory srv/web/sub/',
    ]);
  });

  test('a source that is a symlink to a file inside the context is copied as that file', async () => {
    const { app } = await project('source-link', 'image:\n  files:\n    - {src: page.html, dst: /srv/page.html}\n');
    await symlink('web/index.html', join(app, 'page.html'));
    await build(app);
    assert.deepEqual(await srvEntries(app), ['directory srv/', 'file srv/page.html']);
  });

  test('--context widens the context to a parent directory', async () => {
    const yaml = 'image:\n  files:\n    - {src: ../shared/config.txt, dst: /srv/config.txt}\n';
    const { app } = await project('widened', yaml);
    await build(app, '--context', '..');
    assert.deepEqual(await srvEntries(app), ['directory srv/', 'file srv/config.txt']);
  });

  test('goci compile refuses builds[].dir outside the context too, and compiles nothing', async () => {
    const { parent, app } = await project('compile-dir', 'builds:\n  - dir: ../shared\n');
    const result = await goci(['compile', '--version', '1.2.3'], { cwd: app, env: cacheEnv() });
    assert.equal(
      lastLine(result.stderr),
      `goci: goci.yaml: builds[0].dir: "../shared" resolves to ${parent}/shared, outside the build context ${app} ` +
        '(name only files inside the build context, or widen it with --context DIR)',
    );
    assert.equal(result.exitCode, 2);
    assert.deepEqual(await listFiles(join(app, 'dist')), []);
  });

  test('goci compile still builds other systems than Linux', async () => {
    const { app } = await project('windows', 'builds:\n  - binary: app\n');
    const args = ['compile', '--version', '1.2.3', '--platform', 'windows/amd64'];
    const result = await goci(args, { cwd: app, env: cacheEnv() });
    assert.equal(result.exitCode, 0, result.stderr);
    // dist/.gitignore: goci made dist, and keeps git from counting it as a change.
    assert.deepEqual(await listFiles(join(app, 'dist')), ['.gitignore', 'bin/app-1.2.3-windows-amd64.exe']);
  });
});
