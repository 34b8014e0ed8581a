import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { appendFile, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { execa } from 'execa';
import { docker, startDockerd, type DockerdHarness } from './support/dockerd.js';
import { goci } from './support/goci.js';
import { freePort } from './support/registry.js';
import { exampleRepository, removeDirectory, temporaryDirectory } from './support/workspace.js';

/**
 * Issue 14, acceptance 1 (`npm run e2e:real`, on demand): three real projects built from a
 * goci.yaml of a few lines each, run under dockerd 20.10. GOCI_REAL_SOURCES names a folder with
 * checkouts of the public repositories at these tags; they are never part of goci's repository.
 */

const SOURCES = process.env.GOCI_REAL_SOURCES ?? '';
const PROJECTS = {
  containerd: { repository: 'https://github.com/containerd/containerd', tag: 'v1.6.20' },
  'cri-tools': { repository: 'https://github.com/kubernetes-sigs/cri-tools', tag: 'v1.26.1' },
  distribution: { repository: 'https://github.com/distribution/distribution', tag: 'v2.8.3' },
} as const;

function missingSources(): string | false {
  const absent = Object.keys(PROJECTS).filter((name) => SOURCES === '' || !existsSync(join(SOURCES, name, '.git')));
  if (absent.length === 0) return false;
  const clones = absent.map((name) => {
    const { repository, tag } = PROJECTS[name as keyof typeof PROJECTS];
    return `git clone -b ${tag} ${repository} $GOCI_REAL_SOURCES/${name}`;
  });
  return `set GOCI_REAL_SOURCES to a folder holding ${absent.join(', ')} (${clones.join('; ')})`;
}

const skip = missingSources();

/** The goci.yaml (and other files) each project gets: written into its checkout, git-ignored through .git/info/exclude. */
const FILES: Record<keyof typeof PROJECTS, Record<string, string>> = {
  containerd: {
    'goci.yaml': [
      'version:',
      '  format: describe              # as its Makefile: git describe, the v kept',
      '  variable: github.com/containerd/containerd/version.Version',
      '  commitVariable: github.com/containerd/containerd/version.Revision',
      'builds:',
      '  - main: ./cmd/ctr',
      '    ldflags: ["-X github.com/containerd/containerd/version.Package=github.com/containerd/containerd"]',
      '',
    ].join('\n'),
  },
  'cri-tools': {
    'goci.yaml': [
      'version:',
      '  variable: github.com/kubernetes-sigs/cri-tools/pkg/version.Version   # its Makefile strips the v',
      'builds:',
      '  - main: ./cmd/crictl',
      '',
    ].join('\n'),
  },
  distribution: {
    'goci.yaml': [
      'version:',
      '  format: describe',
      '  variable: github.com/docker/distribution/version.Version',
      '  commitVariable: github.com/docker/distribution/version.Revision',
      'builds:',
      '  - main: ./cmd/registry',
      '    tags: [include_oss, include_gcs]',
      '    ldflags: ["-X github.com/docker/distribution/version.Package=github.com/docker/distribution"]',
      'image:',
      '  args: [serve, /etc/docker/registry/config.yml]',
      '  ports: [5000]',
      '  volumes: [/var/lib/registry]  # a directory the non-root user owns: the registry writes there',
      '  files: [{src: goci-registry.yml, dst: /etc/docker/registry/config.yml}]',
      '',
    ].join('\n'),
    'goci-registry.yml': [
      'version: 0.1',
      'storage:',
      '  filesystem:',
      '    rootdirectory: /var/lib/registry',
      'http:',
      '  addr: :5000',
      '',
    ].join('\n'),
  },
};

let daemon: DockerdHarness;
let gopath: string;

/** Writes the project's goci files into its checkout, ignored by git so that its version stays clean. */
function prepare(name: keyof typeof PROJECTS): Promise<string> {
  return prepareIn(join(SOURCES, name), name);
}

async function prepareIn(dir: string, name: keyof typeof PROJECTS): Promise<string> {
  for (const [file, text] of Object.entries(FILES[name])) await writeFile(join(dir, file), text);
  const exclude = join(dir, '.git', 'info', 'exclude');
  await mkdir(join(dir, '.git', 'info'), { recursive: true });
  const excluded = (await readFile(exclude, 'utf8').catch(() => '')).split('\n');
  const lines = [...Object.keys(FILES[name]), 'dist/'].map((file) => `/${file}`);
  const missing = lines.filter((line) => !excluded.includes(line));
  if (missing.length > 0) await appendFile(exclude, `\n${missing.join('\n')}\n`);
  return dir;
}

/** `goci build --load` of the checkout at `dir` for this machine's platform; the loaded tag. */
async function buildLoaded(dir: string, tag: string, env: NodeJS.ProcessEnv = daemon.env): Promise<string> {
  const result = await goci(['build', '--platform', 'linux/amd64', '--load', '--tag', tag, '--progress', 'plain'], {
    cwd: dir,
    env,
  });
  assert.equal(result.exitCode, 0, result.stderr);
  const loaded = /loaded into docker: (\S+)/.exec(result.stdout)?.[1];
  assert.ok(loaded, result.stdout);
  return loaded;
}

async function run(args: string[]): Promise<string> {
  const result = await docker(['run', '--rm', '--network', 'none', ...args], daemon);
  assert.equal(result.exitCode, 0, `${String(result.stdout)}${String(result.stderr)}`);
  return String(result.stdout).trim();
}

before(async () => {
  if (skip) return;
  daemon = await startDockerd();
  gopath = await temporaryDirectory('real-gopath');
});
after(async () => {
  if (skip) return;
  await daemon.stop();
  await removeDirectory(gopath);
});

describe('real projects from a goci.yaml of a few lines', { skip }, () => {
  test('containerd v1.6.20: ctr --version prints v1.6.20, the tag as its Makefile stamps it', async () => {
    const image = await buildLoaded(await prepare('containerd'), 'e2e');
    assert.equal(await run([image, '--version']), 'ctr github.com/containerd/containerd v1.6.20');
  });

  test('cri-tools v1.26.1: crictl --version prints 1.26.1', async () => {
    const image = await buildLoaded(await prepare('cri-tools'), 'e2e');
    assert.equal(await run([image, '--version']), 'crictl version 1.26.1');
  });

  test('distribution v2.8.3 (GOPATH mode): the registry serves /v2/ as non-root and takes a goci push', async () => {
    // GOPATH mode: the source where its import path says (a clone: go reads the real directory, not a symlink to it).
    const dir = join(gopath, 'src', 'github.com', 'docker', 'distribution');
    await rm(dir, { recursive: true, force: true });
    await execa('git', ['clone', '-q', '-b', PROJECTS.distribution.tag, join(SOURCES, 'distribution'), dir]);
    await prepareIn(dir, 'distribution');
    const image = await buildLoaded(dir, 'e2e', { ...daemon.env, GOPATH: gopath });
    assert.equal(await run([image, '--version']), '/usr/local/bin/registry github.com/docker/distribution v2.8.3');
    const port = await freePort();
    const started = await docker(
      ['run', '-d', '--network', 'host', '-e', `REGISTRY_HTTP_ADDR=127.0.0.1:${port}`, image],
      daemon,
    );
    assert.equal(started.exitCode, 0, String(started.stderr));
    const container = String(started.stdout).trim();
    const hello = await exampleRepository('hello', 'real-push');
    try {
      const answer = await waitForRegistry(`http://127.0.0.1:${port}/v2/`);
      assert.equal(answer, 200);
      const pushed = await goci(
        ['build', '--platform', 'linux/amd64', '--version', '1.0.0', '--push', `127.0.0.1:${port}/hello`],
        { cwd: hello },
      );
      assert.equal(pushed.exitCode, 0, pushed.stderr);
      const listed = (await fetch(`http://127.0.0.1:${port}/v2/hello/tags/list`).then((response) =>
        response.json(),
      )) as {
        tags: string[];
      };
      // The release tags, and the SBOM's fallback tag (sha256-<manifest digest>): the registry stored all it was sent.
      const tags = listed.tags.filter((tag) => !tag.startsWith('sha256-')).sort();
      assert.deepEqual(tags, ['1', '1.0', '1.0.0', 'latest']);
      assert.equal(listed.tags.length, 5);
    } finally {
      await docker(['rm', '-f', container], daemon);
      await removeDirectory(hello);
    }
  });
});

/** The status of GET `url` once the registry in the container answers (it starts in well under a second). */
async function waitForRegistry(url: string): Promise<number> {
  for (let attempt = 0; ; attempt++) {
    const status = await fetch(url).then(
      (response) => response.status,
      () => undefined,
    );
    if (status !== undefined || attempt === 100) return status ?? 0;
    await new Promise((done) => setTimeout(done, 100));
  }
}
