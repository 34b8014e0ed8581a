import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { GociError } from '../common/errors.js';
import { formatPlatform, goTargetEnv, parsePlatform, resolvePlatforms, type GoPort } from '../compiler/platform.js';

const PORTS: GoPort[] = [
  { os: 'linux', arch: 'amd64', firstClass: true },
  { os: 'linux', arch: 'arm64', firstClass: true },
  { os: 'linux', arch: 'arm', firstClass: true },
  { os: 'darwin', arch: 'arm64', firstClass: true },
  { os: 'windows', arch: 'amd64', firstClass: true },
  { os: 'linux', arch: 'riscv64', firstClass: false },
];

function platformError(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    assert.ok(error instanceof GociError);
    assert.equal(error.code, 'BAD_PLATFORM');
    return error.message;
  }
  assert.fail('expected a BAD_PLATFORM error');
}

describe('platforms', () => {
  test('arm64/v8 normalises to arm64 and amd64/v1 to amd64, as containerd does', () => {
    assert.deepEqual(parsePlatform('linux/arm64/v8'), { os: 'linux', arch: 'arm64' });
    assert.deepEqual(parsePlatform('linux/amd64/v1'), { os: 'linux', arch: 'amd64' });
  });

  test('arm without a variant means arm/v7', () => {
    assert.equal(formatPlatform(parsePlatform('linux/arm')), 'linux/arm/v7');
  });

  test("other tools' spellings map to Go's: x86_64, aarch64, armhf", () => {
    assert.equal(formatPlatform(parsePlatform('linux/x86_64')), 'linux/amd64');
    assert.equal(formatPlatform(parsePlatform('linux/aarch64')), 'linux/arm64');
    assert.equal(formatPlatform(parsePlatform('linux/armhf')), 'linux/arm/v7');
  });

  test('variants select GOARM and GOAMD64, always set explicitly', () => {
    assert.deepEqual(goTargetEnv(parsePlatform('linux/arm/v6')), { GOOS: 'linux', GOARCH: 'arm', GOARM: '6' });
    assert.deepEqual(goTargetEnv(parsePlatform('linux/amd64/v3')), { GOOS: 'linux', GOARCH: 'amd64', GOAMD64: 'v3' });
    assert.deepEqual(goTargetEnv(parsePlatform('linux/amd64')), { GOOS: 'linux', GOARCH: 'amd64', GOAMD64: 'v1' });
    assert.deepEqual(goTargetEnv(parsePlatform('darwin/arm64')), { GOOS: 'darwin', GOARCH: 'arm64' });
  });

  test('an unknown arm variant names the allowed ones', () => {
    assert.equal(
      platformError(() => parsePlatform('linux/arm/v9')),
      '--platform: "linux/arm/v9" has an unknown arm variant "v9"; use one of v5, v6, v7',
    );
  });

  test('a variant on an architecture that has none is refused', () => {
    assert.equal(
      platformError(() => parsePlatform('linux/386/v2')),
      '--platform: "linux/386/v2" has a variant, but 386 has none',
    );
  });

  test('a malformed platform says how to write one', () => {
    assert.equal(
      platformError(() => parsePlatform('linux')),
      '--platform: "linux" is not a platform; write it as os/arch or os/arch/variant',
    );
  });

  test('a platform the toolchain cannot build names its field and go tool dist list', () => {
    const message = platformError(() =>
      resolvePlatforms(['linux/amd64', 'linux/sparc99'], PORTS, 'builds[1].platforms', true),
    );
    assert.equal(
      message,
      'builds[1].platforms[1]: "linux/sparc99" is not a platform this Go toolchain can build (see: go tool dist list)',
    );
  });

  test('comma lists are split, duplicates after normalisation dropped, order kept', () => {
    const platforms = resolvePlatforms(
      ['linux/arm64,linux/amd64', 'linux/arm64/v8', 'linux/arm'],
      PORTS,
      '--platform',
      false,
    );
    assert.deepEqual(platforms.map(formatPlatform), ['linux/arm64', 'linux/amd64', 'linux/arm/v7']);
  });

  test('"all" means the first-class ports', () => {
    const platforms = resolvePlatforms(['all'], PORTS, '--platform', false);
    assert.deepEqual(platforms.map(formatPlatform), [
      'linux/amd64',
      'linux/arm64',
      'linux/arm/v7',
      'darwin/arm64',
      'windows/amd64',
    ]);
  });
});
