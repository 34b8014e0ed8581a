import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { execa } from 'execa';
import { goci, lastLine } from './support/goci.js';
import { rootfsListing, skopeoConfig, umociUnpack } from './support/oci.js';
import { listFiles, removeDirectory, repositoryWith } from './support/workspace.js';

const MAIN = (name: string): string =>
  `package main\n\nimport "fmt"\n\nvar version = "dev"\n\nfunc main() { fmt.Println("${name}", version) }\n`;

/** A module with two programs, a config file and a static directory, and an image section using all of them. */
const FILES = {
  'go.mod': 'module example.com/multi\n\ngo 1.19\n',
  'cmd/api/main.go': MAIN('api'),
  'cmd/worker/main.go': MAIN('worker'),
  'config/app.yaml': 'listen: :8080\n',
  'web/index.html': '<h1>hi</h1>\n',
  'web/css/site.css': 'h1 { color: teal }\n',
  'goci.yaml': [
    'builds:',
    '  - main: ./cmd/api',
    '  - main: ./cmd/worker',
    'image:',
    '  entrypoint: api',
    '  args: [--serve]',
    '  env: {APP_ENV: production}',
    '  ports: [8080, 9090/udp]',
    '  stopSignal: SIGTERM',
    '  labels: {org.example.team: payments}',
    '  files:',
    '    - {src: config/app.yaml, dst: /etc/app/app.yaml, mode: 0640, owner: "65532:65532"}',
    '    - {src: web, dst: /srv/web}',
    '',
  ].join('\n'),
};

let repo: string;
const made: string[] = [];
after(async () => Promise.all([repo, ...made].map(removeDirectory)));

async function build(args: string[]): Promise<string> {
  const layout = join(repo, 'dist', `oci-${made.length}`);
  made.push(layout);
  const result = await goci(
    ['build', '.', '--platform', 'linux/amd64', '--version', '2.0.0', '--oci-layout', layout, ...args],
    { cwd: repo },
  );
  assert.equal(result.exitCode, 0, result.stderr);
  return layout;
}

before(async () => {
  repo = await repositoryWith(FILES, 'image-contents');
});

describe('what goes into an image', () => {
  test('several binaries, extra files and a directory tree, with the modes and owners asked for', async () => {
    const rootfs = await umociUnpack(await build([]), '2.0.0', { arch: 'amd64' });
    const listing = await rootfsListing(rootfs);
    for (const line of [
      '-rwxr-xr-x 0:0 /usr/local/bin/api',
      '-rwxr-xr-x 0:0 /usr/local/bin/worker',
      '-rw-r----- 65532:65532 /etc/app/app.yaml',
      'drwxr-xr-x 0:0 /srv/web',
      '-rw-r--r-- 0:0 /srv/web/index.html',
      '-rw-r--r-- 0:0 /srv/web/css/site.css',
    ]) {
      assert.ok(listing.includes(line), `missing ${line}`);
    }
    assert.equal((await execa(join(rootfs, 'usr/local/bin/worker'))).stdout, 'worker 2.0.0');
  });

  test('the config has the chosen entrypoint, args, merged env, ports, stop signal and labels', async () => {
    const config = await skopeoConfig(await build([]), '2.0.0', { arch: 'amd64' });
    assert.deepEqual(config.config.Entrypoint, ['/usr/local/bin/api']);
    assert.deepEqual(config.config.Cmd, ['--serve']);
    assert.deepEqual(config.config.Env, [
      'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
      'SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt',
      'APP_ENV=production',
    ]);
    assert.deepEqual(config.config.ExposedPorts, { '8080/tcp': {}, '9090/udp': {} });
    assert.equal(config.config.StopSignal, 'SIGTERM');
    assert.equal(config.config.Labels['org.example.team'], 'payments');
    assert.equal(config.config.Labels['org.opencontainers.image.title'], 'api');
  });

  test('flags override goci.yaml: env, user, workdir, ports, args, labels, entrypoint', async () => {
    const layout = await build([
      '--env',
      'APP_ENV=staging',
      '--env',
      'PATH=/usr/local/bin',
      '--user',
      '1000:1000',
      '--workdir',
      '/srv',
      '--port',
      '7000',
      '--arg',
      '--once',
      '--label',
      'org.example.team=ledger',
      '--entrypoint',
      'worker',
    ]);
    const config = await skopeoConfig(layout, '2.0.0', { arch: 'amd64' });
    assert.deepEqual(
      { ...config.config, Labels: undefined },
      {
        User: '1000:1000',
        WorkingDir: '/srv',
        ExposedPorts: { '7000/tcp': {} },
        Env: ['PATH=/usr/local/bin', 'SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt', 'APP_ENV=staging'],
        Entrypoint: ['/usr/local/bin/worker'],
        Cmd: ['--once'],
        StopSignal: 'SIGTERM',
        Labels: undefined,
      },
    );
    assert.equal(config.config.Labels['org.example.team'], 'ledger');
  });

  test('--base scratch contains only what was added, and sets no user or workdir', async () => {
    const layout = await build(['--base', 'scratch']);
    const rootfs = await umociUnpack(layout, '2.0.0', { arch: 'amd64' });
    const files = (await rootfsListing(rootfs))
      .filter((line) => line.startsWith('-'))
      .map((line) => line.split(' ')[2]);
    assert.deepEqual(files, [
      '/etc/app/app.yaml',
      '/srv/web/css/site.css',
      '/srv/web/index.html',
      '/usr/local/bin/api',
      '/usr/local/bin/worker',
    ]);
    const config = await skopeoConfig(layout, '2.0.0', { arch: 'amd64' });
    assert.equal(config.config.User, undefined);
    assert.equal(config.config.WorkingDir, undefined);
    assert.deepEqual(config.config.Env, ['APP_ENV=production']);
  });

  test('--base static:root runs as root in /', async () => {
    const config = await skopeoConfig(await build(['--base', 'static:root']), '2.0.0', { arch: 'amd64' });
    assert.deepEqual([config.config.User, config.config.WorkingDir], ['0', '/']);
  });
});

describe("files put into the base's own directories", () => {
  test("keep the static base's /home/nonroot (0700, 65532) and /tmp (1777) as they are", async () => {
    const dir = await repositoryWith(
      {
        'go.mod': 'module example.com/home\n\ngo 1.19\n',
        'main.go': MAIN('home'),
        'app.yaml': 'listen: :8080\n',
        'goci.yaml': [
          'image:',
          '  files:',
          '    - {src: app.yaml, dst: /home/nonroot/.config/app.yaml, owner: "65532:65532"}',
          '    - {src: app.yaml, dst: /tmp/seed/app.yaml}',
          '',
        ].join('\n'),
      },
      'image-contents-home',
    );
    made.push(dir);
    const layout = join(dir, 'dist', 'oci');
    const result = await goci(
      ['build', '.', '--platform', 'linux/amd64', '--version', '1.0.0', '--oci-layout', layout],
      {
        cwd: dir,
      },
    );
    assert.equal(result.exitCode, 0, result.stderr);
    const listing = await rootfsListing(await umociUnpack(layout, '1.0.0', { arch: 'amd64' }));
    const about = (path: string) => listing.filter((line) => line.endsWith(` ${path}`));
    assert.deepEqual(['/home/nonroot', '/home/nonroot/.config', '/tmp', '/tmp/seed'].map(about), [
      ['drwx------ 65532:65532 /home/nonroot'],
      ['drwxr-xr-x 0:0 /home/nonroot/.config'],
      ['drwxrwxrwt 0:0 /tmp'],
      ['drwxr-xr-x 0:0 /tmp/seed'],
    ]);
  });
});

describe('bad image input fails clearly and changes no output', () => {
  async function failing(files: Record<string, string>, args: string[], exitCode: number): Promise<string> {
    const dir = await repositoryWith({ 'go.mod': FILES['go.mod'], 'main.go': MAIN('x'), ...files }, 'image-bad');
    made.push(dir);
    const result = await goci(['build', '.', '--platform', 'linux/amd64', '--version', '1.0.0', ...args], { cwd: dir });
    assert.equal(result.exitCode, exitCode, result.stderr);
    assert.deepEqual(await listFiles(join(dir, 'dist')), [], 'dist/ gained files');
    return lastLine(result.stderr);
  }

  test('a missing file source', async () => {
    assert.equal(
      await failing({ 'goci.yaml': 'image:\n  files: [{src: nope.txt, dst: /etc/nope.txt}]\n' }, [], 2),
      'goci: goci.yaml: image.files[0].src: nope.txt does not exist (paths in image.files are relative to the goci.yaml directory)',
    );
  });

  test('a relative destination', async () => {
    assert.equal(
      await failing({ 'goci.yaml': 'image:\n  files: [{src: go.mod, dst: etc/go.mod}]\n' }, [], 2),
      'goci: goci.yaml: image.files[0].dst: "etc/go.mod" must be an absolute path in the image (start with /) (see the goci.yaml reference in the README)',
    );
  });

  test('a destination with ..', async () => {
    assert.equal(
      await failing({ 'goci.yaml': 'image:\n  files: [{src: go.mod, dst: /etc/../go.mod}]\n' }, [], 2),
      'goci: goci.yaml: image.files[0].dst: "/etc/../go.mod" must not contain ".." (see the goci.yaml reference in the README)',
    );
  });

  test('two files at one destination', async () => {
    assert.equal(
      await failing({ 'goci.yaml': 'image:\n  files: [{src: go.mod, dst: /x}, {src: main.go, dst: /x}]\n' }, [], 2),
      'goci: goci.yaml: image.files: two files are copied to /x (give each file its own dst)',
    );
  });

  test('an invalid label key', async () => {
    assert.equal(
      await failing({}, ['--label', 'Team Name=x'], 2),
      "goci: --label: \"Team Name\" is not a valid label key (lowercase letters, digits, '.', '-', '_'; e.g. org.example.team)",
    );
  });

  test('an unwritable output directory', async () => {
    assert.match(
      await failing({ blocker: 'a file where a directory is needed\n' }, ['--oci-layout', 'blocker/oci'], 1),
      /^goci: cannot write the OCI layout blocker\/oci: /,
    );
  });
});
