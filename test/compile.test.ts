import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { execa } from 'execa';
import type { BinaryReport } from '../compiler/binary/types.js';
import { goci } from './support/goci.js';
import { goVersionM } from './support/go-version.js';
import { removeDirectory, temporaryDirectory } from './support/workspace.js';

const PLATFORMS = 'linux/amd64,linux/arm64,linux/arm/v7,linux/amd64/v3,darwin/arm64,windows/amd64';

/** Each expected file with the target settings go version -m must show for it. */
const EXPECTED: Record<string, Record<string, string>> = {
  'hello-1.2.3-linux-amd64': { GOOS: 'linux', GOARCH: 'amd64', GOAMD64: 'v1' },
  'hello-1.2.3-linux-arm64': { GOOS: 'linux', GOARCH: 'arm64' },
  'hello-1.2.3-linux-armv7': { GOOS: 'linux', GOARCH: 'arm', GOARM: '7' },
  'hello-1.2.3-linux-amd64v3': { GOOS: 'linux', GOARCH: 'amd64', GOAMD64: 'v3' },
  'hello-1.2.3-darwin-arm64': { GOOS: 'darwin', GOARCH: 'arm64' },
  'hello-1.2.3-windows-amd64.exe': { GOOS: 'windows', GOARCH: 'amd64', GOAMD64: 'v1' },
};

let dist: string;
let compileOutput: { exitCode: number; stdout: string; stderr: string };

before(async () => {
  dist = await temporaryDirectory('compile');
  compileOutput = await goci([
    'compile',
    'examples/hello',
    '--platform',
    PLATFORMS,
    '--version',
    '1.2.3',
    '--dist',
    dist,
    '--json',
  ]);
});
after(async () => removeDirectory(dist));

describe('goci compile examples/hello for six targets', () => {
  test('writes exactly the six correctly named binaries', async () => {
    assert.equal(compileOutput.exitCode, 0, compileOutput.stderr);
    assert.deepEqual((await readdir(join(dist, 'bin'))).sort(), Object.keys(EXPECTED).sort());
  });

  test('--json lists each binary with its platform, size and sha256', async () => {
    const result = JSON.parse(compileOutput.stdout) as {
      version: string;
      binaries: { platform: string; path: string; size: number; sha256: string }[];
    };
    assert.equal(result.version, '1.2.3');
    assert.deepEqual(
      result.binaries.map((binary) => binary.platform),
      PLATFORMS.split(','),
    );
    for (const binary of result.binaries) {
      const { stdout } = await execa('sha256sum', [binary.path]);
      assert.equal(stdout.split(' ')[0], binary.sha256);
    }
  });

  for (const [file, settings] of Object.entries(EXPECTED)) {
    test(`${file}: go version -m shows CGO_ENABLED=0, -trimpath=true and its target`, async () => {
      const info = await goVersionM(join(dist, 'bin', file));
      assert.equal(info.settings.CGO_ENABLED, '0');
      assert.equal(info.settings['-trimpath'], 'true');
      for (const key of ['GOOS', 'GOARCH', 'GOARM', 'GOAMD64']) assert.equal(info.settings[key], settings[key], key);
    });

    test(`${file}: goci inspect --json agrees with go version -m on every field`, async () => {
      const path = join(dist, 'bin', file);
      const result = await goci(['inspect', '--json', path]);
      assert.equal(result.exitCode, 0, result.stderr);
      const report = JSON.parse(result.stdout) as BinaryReport;
      const reference = await goVersionM(path);
      const info = report.buildInfo!;
      assert.equal(info.goVersion, reference.goVersion);
      assert.equal(info.path, reference.path);
      assert.deepEqual(
        info.main && [info.main.path, info.main.version, ...(info.main.sum ? [info.main.sum] : [])],
        reference.mod,
      );
      assert.deepEqual(
        info.deps.map((dep) => [dep.path, dep.version, ...(dep.sum ? [dep.sum] : [])]),
        reference.deps,
      );
      assert.deepEqual(
        Object.fromEntries(info.settings.map((setting) => [setting.key, setting.value])),
        reference.settings,
      );
      assert.equal(report.os, settings.GOOS);
      assert.equal(report.arch, settings.GOARCH);
    });
  }

  for (const file of Object.keys(EXPECTED).filter((name) => name.includes('-linux-'))) {
    test(`${file} is static and runs (under qemu when foreign), printing the stamped version`, async () => {
      const path = join(dist, 'bin', file);
      const report = JSON.parse((await goci(['inspect', '--json', path])).stdout) as BinaryReport;
      assert.equal(report.static, true);
      const { stdout } = await execa(path);
      const { GOOS, GOARCH } = EXPECTED[file]!;
      assert.equal(stdout.split('\n')[0], `1.2.3 ${GOOS} ${GOARCH}`);
    });
  }
});
