import assert from 'node:assert/strict';
import { execFile as execFileCallback } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import {
  BASE_DATA_DIR,
  CA_BUNDLE_FILE,
  STATIC_BASE_PACKAGES,
  STATIC_BASE_DATA_FILES,
  staticBase,
  type StaticBase,
} from '../images/base/static.js';
import { writeLayer, type Layer } from '../images/layer.js';
import { REPO_ROOT } from './support/goci.js';

const execFile = promisify(execFileCallback);

/**
 * The static base written with `writeLayer(entries, dir, { mtime: 0 })`. Any change to the
 * base's content (or to the layer writer) changes these: record the new values, and raise
 * STATIC_BASE_VERSION when the content changed.
 */
const EXPECTED_DIGEST = 'sha256:99fa5c14b77729230a94d88e6cc5fbc669163dba4d60ae3de27f2c65b3b55b3f';
const EXPECTED_DIFF_ID = 'sha256:e7648ba61fe789a36332d6e2379e734e82312ad9196d31bc909ad06b69f313f6';

/** Certificates in ca-certificates 20230311+deb12u1 (the Mozilla list, no local CAs). */
const CERTIFICATE_COUNT = 142;

const TOOL_ENV = { PATH: process.env.PATH ?? '/usr/bin:/bin', TZ: 'UTC', LC_ALL: 'C' };

let root: string;
let base: StaticBase;
let layer: Layer;
/** The layer unpacked by GNU tar. */
let rootfs: string;

async function run(
  command: string,
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<string> {
  const { stdout } = await execFile(command, args, {
    cwd: options.cwd,
    env: options.env ?? TOOL_ENV,
    maxBuffer: 64 << 20,
  });
  return stdout;
}

/** Tool output as lines with runs of spaces collapsed, so column widths do not matter. */
function lines(text: string): string[] {
  return text
    .split('\n')
    .map((line) => line.trim().replace(/\s+/g, ' '))
    .filter((line) => line !== '');
}

function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'goci-test-static-base-'));
  base = await staticBase('nonroot');
  layer = await writeLayer(base.entries, join(root, 'first', 'blobs', 'sha256'), { mtime: 0 });
  rootfs = join(root, 'rootfs');
  await mkdir(rootfs);
  await run('tar', ['-xzf', layer.blobPath, '-C', rootfs]);
});

after(async () => {
  await rm(root, { recursive: true, force: true });
});

/** How the probe programs are built: static, for this machine, from the standard library alone. */
const PROBE_GO_ENV = {
  ...process.env,
  CGO_ENABLED: '0',
  GOOS: '',
  GOARCH: '',
  GOFLAGS: '',
  GOWORK: 'off',
  GOPROXY: 'off',
};

describe('the static base layer', () => {
  test('is the same layer every time, with the recorded digest and diff_id', async () => {
    const again = await writeLayer((await staticBase('nonroot')).entries, join(root, 'second', 'blobs', 'sha256'), {
      mtime: 0,
    });
    assert.deepEqual(
      { digest: again.digest, diffId: again.diffId, size: again.size },
      { digest: layer.digest, diffId: layer.diffId, size: layer.size },
    );
    assert.deepEqual(
      { digest: layer.digest, diffId: layer.diffId },
      { digest: EXPECTED_DIGEST, diffId: EXPECTED_DIFF_ID },
    );
  });

  test('tar lists the generated files, the CA bundle and the special directories with their modes and owners', async () => {
    const wanted = new Set([
      'etc/ethertypes',
      'etc/group',
      'etc/nsswitch.conf',
      'etc/os-release',
      'etc/passwd',
      'etc/protocols',
      'etc/services',
      'etc/ssl/certs/ca-certificates.crt',
      'home/nonroot/',
      'root/',
      'tmp/',
      'usr/lib/os-release',
      'var/lib/dpkg/status.d/ca-certificates',
      'var/lib/dpkg/status.d/netbase',
      'var/lib/dpkg/status.d/tzdata',
    ]);
    const listed = lines(await run('tar', ['--numeric-owner', '-tvzf', layer.blobPath])).filter((line) =>
      wanted.has(line.split(' ')[5]!),
    );
    assert.deepEqual(listed, [
      '-rw-r--r-- 0/0 1853 1970-01-01 00:00 etc/ethertypes',
      '-rw-r--r-- 0/0 64 1970-01-01 00:00 etc/group',
      '-rw-r--r-- 0/0 497 1970-01-01 00:00 etc/nsswitch.conf',
      'lrwxrwxrwx 0/0 0 1970-01-01 00:00 etc/os-release -> ../usr/lib/os-release',
      '-rw-r--r-- 0/0 149 1970-01-01 00:00 etc/passwd',
      '-rw-r--r-- 0/0 3144 1970-01-01 00:00 etc/protocols',
      '-rw-r--r-- 0/0 12813 1970-01-01 00:00 etc/services',
      '-rw-r--r-- 0/0 216591 1970-01-01 00:00 etc/ssl/certs/ca-certificates.crt',
      'drwx------ 65532/65532 0 1970-01-01 00:00 home/nonroot/',
      'drwx------ 0/0 0 1970-01-01 00:00 root/',
      'drwxrwxrwt 0/0 0 1970-01-01 00:00 tmp/',
      `-rw-r--r-- 0/0 ${base.osRelease.length} 1970-01-01 00:00 usr/lib/os-release`,
      '-rw-r--r-- 0/0 180 1970-01-01 00:00 var/lib/dpkg/status.d/ca-certificates',
      '-rw-r--r-- 0/0 151 1970-01-01 00:00 var/lib/dpkg/status.d/netbase',
      '-rw-r--r-- 0/0 194 1970-01-01 00:00 var/lib/dpkg/status.d/tzdata',
    ]);
  });

  test('holds exactly these paths besides the zoneinfo tree, and the whole tzdata tree', async () => {
    const listed = lines(await run('tar', ['--numeric-owner', '-tvzf', layer.blobPath]));
    const names = listed.map((line) => line.split(' ')[5]!);
    assert.deepEqual(
      names.filter((name) => !name.startsWith('usr/share/zoneinfo/')),
      [
        'etc/',
        'etc/ethertypes',
        'etc/group',
        'etc/nsswitch.conf',
        'etc/os-release',
        'etc/passwd',
        'etc/protocols',
        'etc/services',
        'etc/ssl/',
        'etc/ssl/certs/',
        'etc/ssl/certs/ca-certificates.crt',
        'home/',
        'home/nonroot/',
        'root/',
        'tmp/',
        'usr/',
        'usr/lib/',
        'usr/lib/os-release',
        'usr/share/',
        'var/',
        'var/lib/',
        'var/lib/dpkg/',
        'var/lib/dpkg/status.d/',
        'var/lib/dpkg/status.d/ca-certificates',
        'var/lib/dpkg/status.d/netbase',
        'var/lib/dpkg/status.d/tzdata',
      ],
    );
    const zoneinfo = listed.filter((line) => line.split(' ')[5]!.startsWith('usr/share/zoneinfo/'));
    const kinds = { files: 0, directories: 0, symlinks: 0 };
    for (const line of zoneinfo) {
      if (line.startsWith('-rw-r--r-- 0/0 ')) kinds.files++;
      else if (line.startsWith('drwxr-xr-x 0/0 ')) kinds.directories++;
      else if (line.startsWith('lrwxrwxrwx 0/0 ')) kinds.symlinks++;
      else assert.fail(`unexpected zoneinfo entry: ${line}`);
    }
    assert.deepEqual(kinds, { files: 900, directories: 43, symlinks: 365 });
    assert.ok(
      zoneinfo.includes('lrwxrwxrwx 0/0 0 1970-01-01 00:00 usr/share/zoneinfo/US/Eastern -> ../America/New_York'),
    );
    assert.ok(zoneinfo.includes('lrwxrwxrwx 0/0 0 1970-01-01 00:00 usr/share/zoneinfo/localtime -> /etc/localtime'));
  });

  test('passwd, group, nsswitch.conf and os-release have the exact content', async () => {
    const read = (path: string) => readFile(join(rootfs, path), 'utf8');
    assert.equal(
      await read('etc/passwd'),
      'root:x:0:0:root:/root:/sbin/nologin\n' +
        'nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n' +
        'nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n',
    );
    assert.equal(await read('etc/group'), 'root:x:0:\nnobody:x:65534:\ntty:x:5:\nstaff:x:50:\nnonroot:x:65532:\n');
    assert.equal(
      await read('etc/nsswitch.conf'),
      [
        '# /etc/nsswitch.conf',
        '#',
        '# Example configuration of GNU Name Service Switch functionality.',
        "# If you have the `glibc-doc-reference' and `info' packages installed, try:",
        '# `info libc "Name Service Switch"\' for information about this file.',
        '',
        'passwd:         compat',
        'group:          compat',
        'shadow:         compat',
        'gshadow:        files',
        '',
        'hosts:          files dns',
        'networks:       files',
        '',
        'protocols:      db files',
        'services:       db files',
        'ethers:         db files',
        'rpc:            db files',
        '',
        'netgroup:       nis',
        '',
      ].join('\n'),
    );
    const osRelease =
      'PRETTY_NAME="goci static (Debian GNU/Linux 12)"\n' +
      'NAME="Debian GNU/Linux"\n' +
      'ID=debian\n' +
      'VERSION_ID="12"\n' +
      'VERSION="12 (bookworm)"\n' +
      'VERSION_CODENAME=bookworm\n' +
      'HOME_URL="https://github.com/goci-dev/goci"\n' +
      'GOCI_STATIC_BASE_VERSION="2"\n';
    assert.equal(await read('etc/os-release'), osRelease); // through the symlink
    assert.equal(base.osRelease, osRelease);
  });

  test('the CA bundle is the vendored file, and openssl reads every certificate in it', async () => {
    const extracted = join(rootfs, 'etc/ssl/certs/ca-certificates.crt');
    const bundle = await readFile(extracted);
    assert.ok(bundle.equals(await readFile(join(BASE_DATA_DIR, CA_BUNDLE_FILE))));
    const pemBlocks = bundle.toString('latin1').match(/^-----BEGIN CERTIFICATE-----$/gm)?.length ?? 0;
    const pkcs7 = join(root, 'bundle.p7');
    await run('openssl', ['crl2pkcs7', '-nocrl', '-certfile', extracted, '-out', pkcs7]);
    const subjects = lines(await run('openssl', ['pkcs7', '-in', pkcs7, '-print_certs', '-noout'])).filter((line) =>
      line.startsWith('subject='),
    );
    assert.deepEqual(
      { pemBlocks, certificates: subjects.length },
      { pemBlocks: CERTIFICATE_COUNT, certificates: CERTIFICATE_COUNT },
    );
  });

  test('a static Go program finds America/New_York in the layer, with and without ZONEINFO', async (t) => {
    const probe = join(root, 'tzprobe');
    await mkdir(probe);
    await writeFile(join(probe, 'go.mod'), 'module tzprobe\n\ngo 1.19\n');
    // Prints the offset LoadLocation gives, and with ZONEINFO set also the one from the TZif
    // file under it read directly: the layer's own bytes, whatever the host has.
    await writeFile(
      join(probe, 'main.go'),
      `package main

import (
	"fmt"
	"os"
	"path/filepath"
	"time"
)

func main() {
	instant := time.Date(2024, 1, 15, 12, 0, 0, 0, time.UTC)
	loc, err := time.LoadLocation(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println("LoadLocation", instant.In(loc).Format("-0700 MST"))
	if dir := os.Getenv("ZONEINFO"); dir != "" {
		data, err := os.ReadFile(filepath.Join(dir, os.Args[1]))
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		fromData, err := time.LoadLocationFromTZData(os.Args[1], data)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		fmt.Println("TZif file", instant.In(fromData).Format("-0700 MST"))
	}
}
`,
    );
    await run('go', ['build', '-o', join(probe, 'tzprobe'), '.'], { cwd: probe, env: PROBE_GO_ENV });

    const zoneinfo = join(rootfs, 'usr/share/zoneinfo');
    assert.equal(
      await run(join(probe, 'tzprobe'), ['America/New_York'], { env: { ZONEINFO: zoneinfo } }),
      'LoadLocation -0500 EST\nTZif file -0500 EST\n',
    );
    // Through a symlink of the tree (US/Eastern -> ../America/New_York).
    assert.equal(
      await run(join(probe, 'tzprobe'), ['US/Eastern'], { env: { ZONEINFO: zoneinfo } }),
      'LoadLocation -0500 EST\nTZif file -0500 EST\n',
    );

    // ZONEINFO unset, inside the layer: the program sees only the layer's /usr/share/zoneinfo.
    const chroot = process.getuid?.() === 0 ? ['chroot'] : ['unshare', '--user', '--map-root-user', 'chroot'];
    await copyFile(join(probe, 'tzprobe'), join(rootfs, 'tzprobe'));
    let output: string;
    try {
      output = await run(chroot[0]!, [...chroot.slice(1), rootfs, '/tzprobe', 'America/New_York'], {
        env: { PATH: TOOL_ENV.PATH },
      });
    } catch (error) {
      if (process.getuid?.() !== 0) {
        t.skip(`cannot chroot without root (${(error as Error).message.split('\n')[0]})`);
        return;
      }
      throw error;
    } finally {
      await rm(join(rootfs, 'tzprobe'), { force: true });
    }
    assert.equal(output, 'LoadLocation -0500 EST\n');
  });
});

describe('what scanners and Go read in the static base', () => {
  test("Debian's own dpkg-query reads the status.d entries, joined into one status file", async () => {
    const admin = join(root, 'dpkg-admin');
    await mkdir(admin);
    const names = ['ca-certificates', 'netbase', 'tzdata'];
    const stanzas = await Promise.all(
      names.map((name) => readFile(join(rootfs, 'var/lib/dpkg/status.d', name), 'utf8')),
    );
    await writeFile(join(admin, 'status'), stanzas.join('\n'));
    const listed = await run('dpkg-query', [
      `--admindir=${admin}`,
      '-W',
      '-f=${Package} ${Version} ${Architecture} ${db:Status-Status}\\n',
    ]);
    assert.equal(
      listed,
      'ca-certificates 20230311+deb12u1 all installed\nnetbase 6.4 all installed\ntzdata 2025b-0+deb12u2 all installed\n',
    );
  });

  test('a static Go program in the layer resolves net.LookupPort("tcp", "https") from its /etc/services', async (t) => {
    const probe = join(root, 'portprobe');
    await mkdir(probe);
    await writeFile(join(probe, 'go.mod'), 'module portprobe\n\ngo 1.19\n');
    await writeFile(
      join(probe, 'main.go'),
      'package main\n\nimport (\n\t"fmt"\n\t"net"\n\t"os"\n)\n\nfunc main() {\n' +
        '\tport, err := net.LookupPort("tcp", os.Args[1])\n\tif err != nil {\n\t\tfmt.Println(err)\n\t\tos.Exit(1)\n\t}\n' +
        '\tfmt.Println(port)\n}\n',
    );
    await run('go', ['build', '-o', join(probe, 'portprobe'), '.'], { cwd: probe, env: PROBE_GO_ENV });
    if (process.getuid?.() !== 0) {
      t.skip('chroot needs root');
      return;
    }
    await copyFile(join(probe, 'portprobe'), join(rootfs, 'portprobe'));
    try {
      // rsync is not in the few services Go knows without the file: only /etc/services answers it.
      assert.equal(await run('chroot', [rootfs, '/portprobe', 'https'], { env: { PATH: TOOL_ENV.PATH } }), '443\n');
      assert.equal(await run('chroot', [rootfs, '/portprobe', 'rsync'], { env: { PATH: TOOL_ENV.PATH } }), '873\n');
    } finally {
      await rm(join(rootfs, 'portprobe'), { force: true });
    }
  });
});

describe('the static base variants', () => {
  test('nonroot runs as 65532 in /home/nonroot, root as 0 in /', async () => {
    const rootVariant = await staticBase('root');
    assert.deepEqual(
      {
        nonroot: { user: base.user, workingDir: base.workingDir },
        root: { user: rootVariant.user, workingDir: rootVariant.workingDir },
      },
      { nonroot: { user: '65532', workingDir: '/home/nonroot' }, root: { user: '0', workingDir: '/' } },
    );
  });

  test('both set PATH and SSL_CERT_FILE and have the same filesystem', async () => {
    const rootVariant = await staticBase('root');
    const env = [
      'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
      'SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt',
    ];
    assert.deepEqual({ nonroot: base.env, root: rootVariant.env }, { nonroot: env, root: env });
    assert.deepEqual(rootVariant.entries, base.entries);
  });
});

describe('the static base data', () => {
  test('is found in the package root when the code runs from lib/', () => {
    assert.equal(BASE_DATA_DIR, join(REPO_ROOT, 'images', 'base', 'data'));
  });

  test('SOURCES.md names the package versions in use and the SHA-256 of each data file', async () => {
    const sources = await readFile(join(BASE_DATA_DIR, 'SOURCES.md'), 'utf8');
    const recorded = [...sources.matchAll(/^ {4}([0-9a-f]{64}) {2}(\S+)$/gm)].map(
      (match) => `${match[1]}  ${match[2]}`,
    );
    const actual = [];
    for (const file of STATIC_BASE_DATA_FILES)
      actual.push(`${sha256(await readFile(join(BASE_DATA_DIR, file)))}  ${file}`);
    assert.deepEqual(recorded, actual);
    const versions = [...sources.matchAll(/^ {4}(ca-certificates|netbase|tzdata) (\S+)$/gm)].map(
      (match) => `${match[1]} ${match[2]}`,
    );
    assert.deepEqual(
      versions,
      Object.entries(STATIC_BASE_PACKAGES).map(([name, version]) => `${name} ${version}`),
    );
  });
});
