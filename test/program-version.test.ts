import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { GOCI_VERSION } from '../common/goci-version.js';
import { REPO_ROOT, goci } from './support/goci.js';

/** Issue 13: `goci --version` is goci's version; `goci build --version X` is still the version to stamp. */
describe("goci's own version", () => {
  test('is the version package.json gives', async () => {
    const pack = JSON.parse(await readFile(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
    assert.equal(GOCI_VERSION, pack.version);
  });

  test('--version and -V print it and exit 0', async () => {
    for (const flag of ['--version', '-V']) {
      const result = await goci([flag]);
      assert.deepEqual([result.exitCode, result.stdout], [0, GOCI_VERSION]);
    }
  });

  test("after a command, --version is that command's: the version stamped into the binaries", async () => {
    const args = ['build', '--version', '1.2.3', '--dry-run', '--platform', 'linux/amd64'];
    const result = await goci(args, { cwd: join(REPO_ROOT, 'examples', 'hello') });
    assert.equal(result.exitCode, 0, result.stderr);
    assert.match(result.stdout, /^# hello linux\/amd64 \(1\.2\.3\)\n.*-X main\.version=1\.2\.3/);
  });
});
