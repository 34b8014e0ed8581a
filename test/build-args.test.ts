import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { goci } from './support/goci.js';
import { FIXTURE_COMMIT_TIME, exampleRepository, git, removeDirectory } from './support/workspace.js';

/** Issue 14: `goci build-args` hands the frontend the stamp goci build would use, as shell-safe words. */

let repo: string;
let commit: string;

before(async () => {
  repo = await exampleRepository('hello', 'build-args');
  await git(repo, 'tag', 'v1.2.3');
  commit = await git(repo, 'rev-parse', 'HEAD');
});
after(() => removeDirectory(repo));

describe('goci build-args', () => {
  test('prints the version, date, commit and source as --build-arg words', async () => {
    await git(repo, 'remote', 'add', 'origin', 'git@github.com:acme/hello.git');
    try {
      const result = await goci(['build-args'], { cwd: repo });
      assert.equal(result.exitCode, 0, result.stderr);
      assert.equal(
        result.stdout,
        `--build-arg VERSION=1.2.3 --build-arg SOURCE_DATE_EPOCH=${FIXTURE_COMMIT_TIME} --build-arg REVISION=${commit} ` +
          '--build-arg SOURCE_URL=https://github.com/acme/hello',
      );
    } finally {
      await git(repo, 'remote', 'remove', 'origin');
    }
  });

  test('a source URL the shell would split is left out, and said so', async () => {
    await git(repo, 'remote', 'add', 'origin', 'https://git.example.com/~alice/tool[1].git');
    try {
      const result = await goci(['build-args', '--json'], { cwd: repo });
      assert.equal(result.exitCode, 0, result.stderr);
      assert.deepEqual(JSON.parse(result.stdout), {
        VERSION: '1.2.3',
        SOURCE_DATE_EPOCH: String(FIXTURE_COMMIT_TIME),
        REVISION: commit,
      });
      assert.match(
        result.stderr,
        /^goci: warning: SOURCE_URL left out: https:\/\/git\.example\.com\/~alice\/tool\[1\] has /m,
      );
    } finally {
      await git(repo, 'remote', 'remove', 'origin');
    }
  });
});
