import assert from 'node:assert/strict';
import { mkdir, realpath, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { execa } from 'execa';
import { hostGoarch } from '../compiler/platform.js';
import { goci } from './support/goci.js';
import { removeDirectory, temporaryDirectory } from './support/workspace.js';

/**
 * Issue 10, break 3: a template value is data. Whatever `{{.Env.X}}` holds arrives verbatim in
 * the one -X it was written in, and never adds a linker flag (here: one that would overwrite
 * the version goci stamps).
 */

const GO_MOD = 'module example.com/stamp\n\ngo 1.19\n';
const MAIN =
  'package main\n\nimport "fmt"\n\nvar version = "dev"\nvar commit = "none"\n\n' +
  'func main() { fmt.Printf("version=%s\\ncommit=%s\\n", version, commit) }\n';
const PLATFORM = `linux/${hostGoarch()}`;
let work: string;

before(async () => {
  work = await realpath(await temporaryDirectory('stamp'));
});
after(async () => removeDirectory(work));

/** Compiles a module whose goci.yaml has these ldflags, with X in the environment, and runs the binary. */
async function stamped(name: string, ldflags: string, value: string | undefined): Promise<string> {
  const dir = join(work, name, 'stamp');
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'go.mod'), GO_MOD);
  await writeFile(join(dir, 'main.go'), MAIN);
  await writeFile(join(dir, 'goci.yaml'), `builds:\n  - ldflags: [${JSON.stringify(ldflags)}]\n`);
  const env = { ...process.env, GOCI_CACHE_DIR: join(work, 'cache'), ...(value === undefined ? {} : { X: value }) };
  const result = await goci(['compile', '--version', '1.2.3', '--platform', PLATFORM, '--json'], { cwd: dir, env });
  assert.equal(result.exitCode, 0, result.stderr);
  const { stdout } = await execa(join(dir, 'dist', 'bin', `stamp-1.2.3-linux-${hostGoarch()}`));
  return stdout;
}

describe('template values cannot inject linker flags', () => {
  const VALUES: [string, string][] = [
    ['a value holding another -X', 'a -X main.version=pwned'],
    ['a single quote and spaces', "it's -X main.version=pwned"],
    ['double quotes and spaces', 'say "hi" -X main.version=pwned'],
    ['a leading single quote', "'quoted"],
    ['a leading double quote', '"quoted'],
    ['a tab and a newline', 'a\t-X main.version=tab\nnext'],
  ];
  for (const [name, value] of VALUES) {
    test(`${name}: the version stays --version and the value arrives verbatim`, async () => {
      const output = await stamped(name.replace(/\W+/g, '-'), '-X main.commit={{.Env.X}}', value);
      assert.equal(output, `version=1.2.3\ncommit=${value}`);
    });
  }

  test('an empty value gives an empty variable, not a missing argument', async () => {
    assert.equal(await stamped('empty', '-X main.commit={{.Env.X}}', ''), 'version=1.2.3\ncommit=');
  });

  test('a field quoted in goci.yaml keeps its spaces, as go build reads it', async () => {
    const output = await stamped('quoted', "-X 'main.commit=two {{.Env.X}}'", 'words -X main.version=pwned');
    assert.equal(output, 'version=1.2.3\ncommit=two words -X main.version=pwned');
  });
});
