import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import { goci, lastLine } from './support/goci.js';
import { git, removeDirectory, repositoryWith, temporaryDirectory } from './support/workspace.js';

/**
 * Issue 14: a program without a go.mod (GOPATH mode, as distribution v2.8 is) builds, and its
 * image says only what is true of it: Go recorded no module, so there is no module label, and
 * goci says once why its SBOM lists no dependencies.
 */

const PROGRAM = 'package main\n\nimport "example.org/dep"\n\nfunc main() { dep.Hello() }\n';
const DEPENDENCY =
  'package dep\n\nimport "fmt"\n\n// Hello prints a greeting.\nfunc Hello() { fmt.Println("gopath") }\n';
/**
 * vndr's file: the vendored package; one pinned there that vendor/ no longer holds; and lines
 * that would read outside vendor/ (climbing, absolute, through a symlink) or are no import path.
 */
const VENDOR_CONF = [
  '# vendored with vndr',
  'example.org/dep v1.4.0',
  'example.org/gone 1234abcd https://example.org/gone.git',
  '../../../../../../../../etc v9',
  'example.org/./dep v1',
  '/ v2',
  'github.com//a/b v1',
  'example.org/link v1',
  '',
].join('\n');

let gopath: string;
/** The program's repository, at $GOPATH/src/example.com/tool as GOPATH mode wants it. */
let dir: string;
let env: NodeJS.ProcessEnv;
before(async () => {
  gopath = await temporaryDirectory('gopath');
  dir = join(gopath, 'src', 'example.com', 'tool');
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'main.go'), PROGRAM);
  await mkdir(join(dir, 'vendor', 'example.org', 'dep'), { recursive: true });
  await writeFile(join(dir, 'vendor', 'example.org', 'dep', 'dep.go'), DEPENDENCY);
  await writeFile(join(dir, 'vendor.conf'), VENDOR_CONF);
  await symlink('/etc', join(dir, 'vendor', 'example.org', 'link'));
  await writeFile(join(dir, 'goci.yaml'), 'builds: [{binary: tool}]\n');
  await git(dir, 'init', '-q', '-b', 'main');
  await git(dir, 'add', '-A');
  await git(dir, 'commit', '-q', '-m', 'a GOPATH program');
  env = { ...process.env, GOPATH: gopath };
});
after(() => removeDirectory(gopath));

describe('a build without a go.mod', () => {
  test('builds in GOPATH mode, warning once that the binary records no module or dependencies', async () => {
    const result = await goci(['build', '--platform', 'linux/amd64', '--version', '1.0.0', '--json'], {
      cwd: dir,
      env,
    });
    assert.equal(result.exitCode, 0, result.stderr);
    const warnings = result.stderr.split('\n').filter((line) => line.startsWith('goci: warning:'));
    assert.deepEqual(warnings, [
      'goci: warning: goci.yaml: builds[0]: no go.mod, so GOPATH mode (GO111MODULE=off): the binary records no ' +
        'module or dependency versions, so its SBOM lists what vendor.conf pins; add a go.mod (go mod init) to have them',
    ]);
    const image = JSON.parse(result.stdout).images[0] as { ociLayout: string; platforms: { digest: string }[] };
    const blob = async (digest: string) =>
      JSON.parse(await readFile(join(image.ociLayout, 'blobs', digest.replace(':', '/')), 'utf8'));
    const manifest = await blob(image.platforms[0]!.digest);
    const labels = (await blob(manifest.config.digest)).config.Labels as Record<string, string>;
    assert.equal(labels['dev.goci.go.module'], undefined);
    assert.match(labels['dev.goci.go.version'] ?? '', /^go1\./);
    assert.equal(labels['org.opencontainers.image.version'], '1.0.0');
    const sbom = await goci(['inspect', '--sbom', `oci:${image.ociLayout}:1.0.0`], { cwd: dir, env });
    assert.equal(sbom.exitCode, 0, sbom.stderr);
    const packages = (JSON.parse(sbom.stdout) as { packages: { name: string; versionInfo: string }[] }).packages;
    assert.deepEqual(
      packages.map((item) => [item.name, item.versionInfo]),
      [
        ['example.com/tool', '(devel)'],
        ['example.org/dep', 'v1.4.0'],
        ['stdlib', packages.at(-1)?.versionInfo],
      ],
    );
  });

  test('outside $GOPATH/src it is refused before compiling, saying where GOPATH mode looks', async () => {
    const elsewhere = await repositoryWith({ 'main.go': 'package main\n\nfunc main() {}\n' }, 'gopath-elsewhere');
    try {
      const result = await goci(['build', '--platform', 'linux/amd64'], { cwd: elsewhere, env });
      assert.equal(result.exitCode, 2);
      assert.equal(
        lastLine(result.stderr),
        `goci: builds[0]: no go.mod, and ${elsewhere} is not below $GOPATH/src (${gopath}/src) (add a go.mod ` +
          '(go mod init), or build it where GOPATH mode finds it: $GOPATH/src/<its import path>)',
      );
    } finally {
      await removeDirectory(elsewhere);
    }
  });
});
