import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { build, GociError, type ProgressEvent } from 'goci';
import { goci } from './support/goci.js';
import { exampleRepository, removeDirectory, temporaryDirectory } from './support/workspace.js';

const EPOCH = '1714564800';
const PLATFORMS = ['linux/amd64', 'linux/arm64'];

let work: string;
let repo: string;
let env: NodeJS.ProcessEnv;
let cliIndex: string;

before(async () => {
  work = await temporaryDirectory('library');
  repo = await exampleRepository('hello', 'library');
  env = { ...process.env, SOURCE_DATE_EPOCH: EPOCH, GOCI_CACHE_DIR: join(work, 'cache') };
  const args = ['build', '.', '--platform', PLATFORMS.join(','), '--version', '1.2.3', '--json'];
  const cli = await goci([...args, '--dist', join(work, 'cli-dist'), '--progress', 'plain'], { cwd: repo, env });
  assert.equal(cli.exitCode, 0, cli.stderr);
  cliIndex = (JSON.parse(cli.stdout) as { images: { index: { digest: string } }[] }).images[0]!.index.digest;
});
after(() => Promise.all([work, repo].map(removeDirectory)));

describe("import { build } from 'goci'", () => {
  test('builds examples/hello into a layout with the index digest the CLI makes from the same inputs', async () => {
    const events: ProgressEvent['kind'][] = [];
    const result = await build({
      dirs: [repo],
      platforms: PLATFORMS,
      version: '1.2.3',
      dist: join(work, 'lib-dist'),
      env,
      onProgress: (event) => events.push(event.kind),
    });
    assert.equal(result.images.length, 1);
    const [image] = result.images;
    assert.equal(image?.index.digest, cliIndex);
    assert.equal(image?.ociLayout, join(work, 'lib-dist', 'oci'));
    assert.deepEqual(image?.tags, ['1.2.3']);
    assert.deepEqual(
      events.filter((kind) => kind.startsWith('image')),
      ['image-start', 'image-done'],
    );
  });

  test('a mistake is thrown as a GociError with its code, and the process keeps running', async () => {
    await assert.rejects(
      build({ dirs: [repo], platforms: ['plan9/mips'], dist: join(work, 'bad-dist'), env }),
      (error: unknown) => error instanceof GociError && error.code === 'BAD_PLATFORM',
    );
  });
});
