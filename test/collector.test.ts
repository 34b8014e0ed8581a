import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { collectorSettings, type CollectorFacts } from '../compiler/collector.js';

const GIB = 1024 ** 3;
/** This machine's kind: 2 cores, 24 GiB, three targets built at once, Debian's Go. */
const MACHINE: CollectorFacts = {
  goVersion: 'go1.19.8',
  concurrentBuilds: 3,
  cpus: 2,
  totalMemory: 24 * GIB,
  env: {},
};

describe('how go build collects garbage', () => {
  test('with room for 1 GiB per compile, the collector is off up to half the memory shared among them', () => {
    assert.deepEqual(collectorSettings(MACHINE), { GOGC: 'off', GOMEMLIMIT: '2048MiB' });
  });

  test('the limit is at most 4 GiB, however much memory the machine has', () => {
    assert.deepEqual(collectorSettings({ ...MACHINE, concurrentBuilds: 1, cpus: 1, totalMemory: 256 * GIB }), {
      GOGC: 'off',
      GOMEMLIMIT: '4096MiB',
    });
  });

  test('a machine with less than 1 GiB per compile keeps Go’s defaults', () => {
    assert.deepEqual(collectorSettings({ ...MACHINE, concurrentBuilds: 4, totalMemory: 7 * GIB }), {});
  });

  test('a GOGC of the user’s wins, and goci adds no limit to it', () => {
    assert.deepEqual(collectorSettings({ ...MACHINE, env: { GOGC: '200' } }), {});
  });

  test('a GOMEMLIMIT of the user’s wins', () => {
    assert.deepEqual(collectorSettings({ ...MACHINE, env: { GOMEMLIMIT: '512MiB' } }), {});
  });

  test('toolchains before Go 1.19 have no GOMEMLIMIT and keep their defaults', () => {
    assert.deepEqual(collectorSettings({ ...MACHINE, goVersion: 'go1.18.10' }), {});
  });

  test('a toolchain whose release goci could not read keeps its defaults', () => {
    assert.deepEqual(collectorSettings({ ...MACHINE, goVersion: undefined }), {});
  });

  test('later releases, two-digit minors included, get the settings', () => {
    assert.deepEqual(collectorSettings({ ...MACHINE, goVersion: 'go1.23.4' }), {
      GOGC: 'off',
      GOMEMLIMIT: '2048MiB',
    });
  });
});
