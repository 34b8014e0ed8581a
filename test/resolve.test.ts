import assert from 'node:assert/strict';
import { readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { execa } from 'execa';
import { goci, lastLine } from './support/goci.js';
import { MONOREPO_MANIFESTS, MONOREPO_MODULE, monorepo, monorepos } from './support/monorepo.js';
import { startRegistry, type RegistryHarness } from './support/registry.js';
import { removeDirectory, temporaryDirectory } from './support/workspace.js';

/**
 * Issue 13: `goci resolve -f` builds and pushes every goci:// reference in Kubernetes manifests
 * and compose files and writes them back with digests; real clients read the result.
 */

const FLAGS = ['--platform', 'linux/amd64', '--sbom', 'none', '--progress', 'plain'];
const INDEX = 'application/vnd.oci.image.index.v1+json';
const PINNED = /[0-9.:]+\/team\/[a-z]+@sha256:[a-f0-9]{64}/g;

const repository = monorepos();
const PROGRAM = 'package main\n\nfunc main() {}\n';
const OUTSIDE_HINT = "(write goci:// with an import path of this module, or ./ and the package's directory)";

let registry: RegistryHarness;
let dir: string;
let outputs: string;
let env: NodeJS.ProcessEnv;

before(async () => {
  registry = await startRegistry();
  dir = await monorepo(MONOREPO_MANIFESTS);
  outputs = await temporaryDirectory('resolved');
  env = { ...process.env, GOCI_REPO: `${registry.host}/team` };
});

after(async () => {
  await registry.stop();
  await Promise.all([dir, outputs].map(removeDirectory));
});

/** Whether the registry holds `repository@digest` (asked directly, not through goci). */
async function exists(reference: string): Promise<boolean> {
  const [name, digest] = reference.slice(`${registry.host}/`.length).split('@') as [string, string];
  const response = await fetch(`${registry.url}/v2/${name}/manifests/${digest}`, {
    method: 'HEAD',
    headers: { accept: INDEX },
  });
  return response.ok && response.headers.get('docker-content-digest') === digest;
}

describe('goci resolve -f', () => {
  test('a directory of manifests: each reference pinned by digest, every other byte kept, kubectl reads it', async () => {
    const result = await goci(['resolve', '-f', 'k8s', ...FLAGS], { cwd: dir, env });
    assert.equal(result.exitCode, 0, result.stderr);
    const pinned = result.stdout.match(PINNED) ?? [];
    assert.deepEqual(
      pinned.map((reference) => reference.split('@')[0]),
      [`${registry.host}/team/app`, `${registry.host}/team/worker`],
    );
    for (const reference of pinned) assert.ok(await exists(reference), `${reference} is not in the registry`);
    const expected = `${MONOREPO_MANIFESTS['k8s/app.yaml']}---\n${MONOREPO_MANIFESTS['k8s/worker.yaml']}`
      .replace(`goci://${MONOREPO_MODULE}/cmd/app`, pinned[0]!)
      .replace('goci://./cmd/worker', pinned[1]!);
    assert.equal(`${result.stdout}\n`, expected);

    const file = join(outputs, 'k8s.yaml');
    await writeFile(file, result.stdout);
    const each = '{.kind}={.metadata.labels.checked} ';
    const kubectl = await execa('kubectl', ['label', '--local', '-f', file, 'checked=yes', '-o', `jsonpath=${each}`]);
    assert.deepEqual(kubectl.stdout.trim().split(' '), ['Deployment=yes', 'Pod=yes', 'ConfigMap=yes']);
  });

  test('a compose file written with -o is accepted by docker-compose config', async () => {
    const output = join(outputs, 'compose.resolved.yaml');
    const result = await goci(['resolve', '-f', 'compose.yaml', '-o', output, ...FLAGS], { cwd: dir, env });
    assert.equal(result.exitCode, 0, result.stderr);
    assert.equal(result.stdout, '');
    const written = await readFile(output, 'utf8');
    const pinned = written.match(PINNED) ?? [];
    assert.equal(pinned.length, 2);
    for (const reference of pinned) assert.ok(await exists(reference));
    // docker-compose 1.29 (Debian's) checks the file against the compose schema and prints it as it understood it.
    const config = await execa('docker-compose', ['-f', output, 'config'], { cwd: outputs });
    assert.deepEqual(config.stdout.match(PINNED), pinned);
  });

  test('a reference outside the module is refused before anything is built', async () => {
    const input = join(outputs, 'foreign.yaml');
    await writeFile(input, 'image: goci://github.com/other/tool\n');
    const result = await goci(['resolve', '-f', input, ...FLAGS], { cwd: dir, env });
    assert.equal(result.exitCode, 2);
    assert.equal(
      lastLine(result.stderr),
      `goci: goci://github.com/other/tool: not a package of module ${MONOREPO_MODULE} ` +
        "(write goci:// with an import path of this module, or ./ and the package's directory)",
    );
  });

  test('a reference that climbs out of the module with .. is refused, as a path or inside an import path', async () => {
    const input = join(outputs, 'climbing.yaml');
    for (const target of ['./../outside', `${MONOREPO_MODULE}/../../etc`]) {
      await writeFile(input, `image: goci://${target}\n`);
      const result = await goci(['resolve', '-f', input, ...FLAGS], { cwd: dir, env });
      assert.equal(result.exitCode, 2);
      assert.equal(
        lastLine(result.stderr),
        `goci: goci://${target}: not a package of module ${MONOREPO_MODULE} ` +
          "(write goci:// with an import path of this module, or ./ and the package's directory)",
      );
    }
  });

  test('a main package goci.yaml names by import path is resolved from its directory', async () => {
    const spec = `builds:\n  - main: ${MONOREPO_MODULE}/cmd/app\nimage: {}\n`;
    const module = await repository({ 'goci.yaml': spec, 'app.yaml': 'image: goci://./cmd/app\n' });
    const result = await goci(['resolve', '-f', 'app.yaml', ...FLAGS], { cwd: module, env });
    assert.equal(result.exitCode, 0, result.stderr);
    const pinned = result.stdout.match(PINNED) ?? [];
    assert.equal(result.stdout, `image: ${pinned[0]}`);
    assert.ok(await exists(pinned[0]!));
  });

  test('a package that is a binary of an image but starts none is refused before anything is pushed', async () => {
    const spec = 'builds:\n  - main: ./cmd/app\n  - main: ./cmd/worker\nimage: {binaries: [app, worker]}\n';
    const module = await repository({ 'goci.yaml': spec, 'worker.yaml': 'image: goci://./cmd/worker\n' });
    const prefix = { ...env, GOCI_REPO: `${registry.host}/refused-binary` };
    const result = await goci(['resolve', '-f', 'worker.yaml', ...FLAGS], { cwd: module, env: prefix });
    assert.equal(result.exitCode, 2);
    assert.equal(
      lastLine(result.stderr),
      'goci: cmd/worker: no image in goci.yaml starts this package; it is a binary of app (image) ' +
        "(name the package that image's entrypoint is, or give this package an image of its own in goci.yaml)",
    );
    assert.deepEqual(await repositories('refused-binary/'), []);
  });

  test('a package two images start is refused before anything is pushed', async () => {
    const spec = 'builds:\n  - main: ./cmd/app\nimages:\n  - {}\n  - {repository: app-debug, base: scratch}\n';
    const module = await repository({ 'goci.yaml': spec, 'app.yaml': 'image: goci://./cmd/app\n' });
    const prefix = { ...env, GOCI_REPO: `${registry.host}/refused-two` };
    const result = await goci(['resolve', '-f', 'app.yaml', ...FLAGS], { cwd: module, env: prefix });
    assert.equal(result.exitCode, 2);
    assert.equal(
      lastLine(result.stderr),
      'goci: cmd/app: 2 images in goci.yaml start this package: app (images[0]), app-debug (images[1]) ' +
        '(a reference names one image: give the others another entrypoint, or refer to them by repository)',
    );
    assert.deepEqual(await repositories('refused-two/'), []);
  });

  test('a package pattern names no one image: refused before anything is pushed', async () => {
    const module = await repository({ 'all.yaml': 'image: goci://./cmd/...\n' });
    const prefix = { ...env, GOCI_REPO: `${registry.host}/refused-pattern` };
    const result = await goci(['resolve', '-f', 'all.yaml', ...FLAGS], { cwd: module, env: prefix });
    assert.equal(result.exitCode, 2);
    assert.equal(
      lastLine(result.stderr),
      'goci: goci://./cmd/...: a package pattern names no one image (write one package per goci:// reference)',
    );
    assert.deepEqual(await repositories('refused-pattern/'), []);
  });

  test('a symlink out of the module is refused', async () => {
    const module = await repository({ 'linked.yaml': 'image: goci://./linked\n' });
    await symlink(join(outputs), join(module, 'linked'));
    const result = await goci(['resolve', '-f', 'linked.yaml', ...FLAGS], { cwd: module, env });
    assert.equal(result.exitCode, 2);
    assert.equal(
      lastLine(result.stderr),
      `goci: goci://./linked: not a package of module ${MONOREPO_MODULE} ${OUTSIDE_HINT}`,
    );
  });

  test('a package of a nested module is refused, by path and by import path', async () => {
    const module = await repository({
      'tools/go.mod': `module ${MONOREPO_MODULE}/tools\n\ngo 1.19\n`,
      'tools/lint/main.go': PROGRAM,
    });
    const input = join(outputs, 'nested.yaml');
    for (const target of ['./tools/lint', `${MONOREPO_MODULE}/tools/lint`]) {
      await writeFile(input, `image: goci://${target}\n`);
      const result = await goci(['resolve', '-f', input, ...FLAGS], { cwd: module, env });
      assert.equal(result.exitCode, 2);
      assert.equal(
        lastLine(result.stderr),
        `goci: goci://${target}: not a package of module ${MONOREPO_MODULE} ${OUTSIDE_HINT}`,
      );
    }
  });
});

/** The registry's repositories whose names start with `prefix`. */
async function repositories(prefix: string): Promise<string[]> {
  const response = await fetch(`${registry.url}/v2/_catalog`);
  const { repositories: names } = (await response.json()) as { repositories: string[] | null };
  return (names ?? []).filter((name) => name.startsWith(prefix));
}
