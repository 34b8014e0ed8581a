import assert from 'node:assert/strict';
import { mkdir, readFile, readdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { execa } from 'execa';
import { GOCI_VERSION } from '../common/goci-version.js';
import { REPO_ROOT, goci } from './support/goci.js';
import { installFromFreshClone, installedPackages, type InstalledGoci } from './support/installed-goci.js';
import { MONOREPO_MANIFESTS, monorepo } from './support/monorepo.js';
import { startRegistry } from './support/registry.js';
import { exampleRepository, git, removeDirectory } from './support/workspace.js';

/**
 * Issue 13, point 2: goci installs in one line. A fresh clone is packed (prepack builds it) and
 * installed globally into a temporary prefix without optional dependencies; the installed
 * command and library work from another directory, with types.
 */

const EPOCH = '1714564800';
const BUILD = ['build', '.', '--platform', 'linux/amd64,linux/arm64', '--version', '1.2.3', '--json'];

let installed: InstalledGoci;
let hello: string;
let env: NodeJS.ProcessEnv;
/** The index digest this checkout's own CLI makes of examples/hello. */
let expectedIndex: string;

function indexDigest(stdout: string): string {
  return (JSON.parse(stdout) as { images: { index: { digest: string } }[] }).images[0]!.index.digest;
}

before(async () => {
  installed = await installFromFreshClone();
  hello = await exampleRepository('hello', 'installed');
  env = { ...process.env, SOURCE_DATE_EPOCH: EPOCH, GOCI_CACHE_DIR: join(installed.root, 'cache') };
  const own = await goci([...BUILD, '--dist', join(installed.root, 'own-dist'), '--progress', 'plain'], {
    cwd: hello,
    env,
  });
  assert.equal(own.exitCode, 0, own.stderr);
  expectedIndex = indexDigest(own.stdout);
});

after(() => Promise.all([installed?.root, hello].filter(Boolean).map((dir) => removeDirectory(dir!))));

describe('npm pack of a fresh clone, installed with npm install -g', () => {
  test('the pack holds what runs and nothing else: the bundles, the library types, the base data', async () => {
    const data = (await readdir(join(REPO_ROOT, 'images', 'base', 'data'))).map((name) => `images/base/data/${name}`);
    const expected = [
      'LICENSE',
      'README.md',
      ...data,
      'lib/cli.cjs',
      'lib/goci.cjs',
      'lib/goci.schema.json',
      'lib/library.d.ts',
      'lib/library.mjs',
      'package.json',
    ].sort();
    assert.deepEqual(installed.packed, expected);
  });

  test('depends on dockerode alone: no bundled dependency is installed', async () => {
    const manifest = JSON.parse(await readFile(join(installed.packageDir, 'package.json'), 'utf8'));
    assert.deepEqual(Object.keys(manifest.dependencies), ['dockerode']);
    const packages = await installedPackages(installed.packageDir);
    assert.ok(packages.includes('dockerode'));
    for (const bundled of ['commander', 'execa', 'yaml', 'semver', '@bufbuild/protobuf', 'esbuild', 'typescript']) {
      assert.ok(!packages.includes(bundled), `${bundled} was installed`);
    }
  });

  test('the installed goci prints its version', async () => {
    const result = await execa(installed.bin, ['--version']);
    assert.equal(result.stdout, GOCI_VERSION);
  });

  test('the installed goci builds from another directory the image this checkout builds', async () => {
    const args = [...BUILD, '--dist', join(installed.root, 'installed-dist'), '--progress', 'plain'];
    const result = await execa(installed.bin, args, { cwd: hello, env, reject: false });
    assert.equal(result.exitCode, 0, result.stderr);
    assert.equal(indexDigest(result.stdout), expectedIndex);
  });

  test("the installed library builds the same image: import { build } from 'goci'", async () => {
    const consumer = join(installed.root, 'consumer');
    await mkdir(join(consumer, 'node_modules'), { recursive: true });
    await symlink(installed.packageDir, join(consumer, 'node_modules', 'goci'));
    const script = [
      "import { build } from 'goci';",
      `const result = await build({ dirs: [${JSON.stringify(hello)}], platforms: ['linux/amd64', 'linux/arm64'],`,
      `  version: '1.2.3', dist: ${JSON.stringify(join(installed.root, 'library-dist'))} });`,
      'process.stdout.write(result.images[0].index.digest);',
    ].join('\n');
    await writeFile(join(consumer, 'build.mjs'), script);
    const result = await execa(process.execPath, ['build.mjs'], { cwd: consumer, env, reject: false });
    assert.equal(result.exitCode, 0, result.stderr);
    assert.equal(result.stdout, expectedIndex);
  });

  test("the installed library's types check a right use and refuse a wrong one", async () => {
    const consumer = join(installed.root, 'typed');
    await mkdir(join(consumer, 'node_modules'), { recursive: true });
    await symlink(installed.packageDir, join(consumer, 'node_modules', 'goci'));
    const tsconfig = {
      compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true },
    };
    await writeFile(join(consumer, 'tsconfig.json'), JSON.stringify(tsconfig));
    await writeFile(join(consumer, 'package.json'), '{"type": "module"}\n');
    const tsc = join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    const check = async (source: string): Promise<string> => {
      await writeFile(join(consumer, 'use.ts'), source);
      const result = await execa(process.execPath, [tsc, '-p', '.'], { cwd: consumer, reject: false });
      return result.stdout;
    };
    const right = [
      "import { build, GociError, type BuildOptions } from 'goci';",
      "const options: BuildOptions = { platforms: ['linux/amd64'], sbom: 'none' };",
      'const result = await build(options);',
      'const digest: string | undefined = result.images[0]?.pushed?.reference;',
      'export const failed = (error: unknown): boolean => error instanceof GociError && error.code === "BAD_SPEC";',
      'export { digest };',
    ].join('\n');
    assert.equal(await check(right), '');
    assert.match(await check("import { build } from 'goci';\nawait build({ platforms: 5 });\n"), /TS2322/);
  });

  test('a newcomer: init, check, publish two services, resolve manifests and a compose file, all offline', async () => {
    const registry = await startRegistry();
    const dir = await monorepo(MONOREPO_MANIFESTS);
    try {
      const run = async (args: string[], extra: Record<string, string> = {}) => {
        const result = await execa(installed.bin, args, { cwd: dir, env: { ...env, ...extra }, reject: false });
        assert.equal(result.exitCode, 0, `goci ${args.join(' ')}:\n${result.stderr}`);
        return result.stdout;
      };
      await run(['init']);
      await git(dir, 'add', 'goci.yaml');
      await git(dir, 'commit', '-q', '-m', 'goci init');
      await git(dir, 'tag', '-f', 'v0.3.1');
      assert.match(await run(['check']), /^goci\.yaml: ok: builds app \(linux\/amd64, linux\/arm64\), worker /);
      const prefix = { GOCI_REPO: `${registry.host}/team` };
      const published = (await run(['publish', './cmd/app', './cmd/worker', '--progress', 'plain'], prefix)).split(
        '\n',
      );
      assert.deepEqual(
        published.map((reference) => reference.split('@')[0]),
        [`${registry.host}/team/app`, `${registry.host}/team/worker`],
      );
      for (const name of ['app', 'worker']) {
        const listed = await (await fetch(`${registry.url}/v2/team/${name}/tags/list`)).json();
        // The sha256-<hex> tags are the SBOMs' referrers fallback (distribution 2.8 has no referrers API).
        const tags = (listed as { tags: string[] }).tags.filter((tag) => !tag.startsWith('sha256-'));
        assert.deepEqual(tags.sort(), ['0', '0.3', '0.3.1', 'latest']);
      }
      // The same commit resolved is the same images: the manifests pin exactly what publish pushed.
      const manifests = join(installed.root, 'k8s.resolved.yaml');
      await writeFile(manifests, await run(['resolve', '-f', 'k8s', '--progress', 'plain'], prefix));
      assert.deepEqual(
        (await readFile(manifests, 'utf8')).match(/[0-9.:]+\/team\/[a-z]+@sha256:[a-f0-9]{64}/g),
        published,
      );
      const each = '{.kind}={.metadata.labels.checked} ';
      const kubectl = await execa('kubectl', [
        'label',
        '--local',
        '-f',
        manifests,
        'checked=yes',
        '-o',
        `jsonpath=${each}`,
      ]);
      assert.deepEqual(kubectl.stdout.trim().split(' '), ['Deployment=yes', 'Pod=yes', 'ConfigMap=yes']);
      const compose = join(installed.root, 'compose.resolved.yaml');
      await run(['resolve', '-f', 'compose.yaml', '-o', compose, '--progress', 'plain'], prefix);
      const config = await execa('docker-compose', ['-f', compose, 'config'], { cwd: installed.root });
      assert.deepEqual(config.stdout.match(/[0-9.:]+\/team\/[a-z]+@sha256:[a-f0-9]{64}/g), published);
    } finally {
      await registry.stop();
      await removeDirectory(dir);
    }
  });
});
