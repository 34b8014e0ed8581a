import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { goci, lastLine } from './support/goci.js';
import { monorepos } from './support/monorepo.js';

/** Issue 13, point 4: the errors a newcomer meets say what was read and what is possible. */

const repository = monorepos();

describe('errors a newcomer meets', () => {
  test('a one-word base that is not built in says it was read as a Docker Hub image, and lists the built-in bases', async () => {
    const dir = await repository({ 'cmd/app/goci.yaml': 'image:\n  base: distroless\n' });
    const result = await goci(['build', '--platform', 'linux/amd64'], { cwd: `${dir}/cmd/app` });
    assert.notEqual(result.exitCode, 0);
    const line = lastLine(result.stderr);
    const read =
      'goci: goci.yaml: image.base: "distroless" is not a built-in base (static, static:nonroot, static:root, scratch), ' +
      'so it was read as docker.io/library/distroless, which failed: ';
    assert.ok(line.startsWith(read), line);
    // The registry's own hint (here: no such host, so check the name) comes first, then the way out.
    assert.match(
      line,
      /\((?:[^()]+; or )?use a built-in base, or a full reference such as gcr\.io\/distroless\/static-debian12:nonroot\)$/,
    );
  });

  test('a module root without a main package names the main packages below it', async () => {
    const dir = await repository();
    const result = await goci(['build', '--platform', 'linux/amd64'], { cwd: dir });
    assert.equal(result.exitCode, 1);
    assert.match(
      lastLine(result.stderr),
      /: go build found no package to build in \S+ \(\.\); the main packages below it are \.\/cmd\/app, \.\/cmd\/worker \(name them \(goci build \.\/cmd\/app \.\/cmd\/worker\), or set builds\[\]\.main in goci\.yaml\)$/,
    );
  });
});
