import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { after, describe, test } from 'node:test';
import { goci, lastLine, type RunResult } from './support/goci.js';
import { listFiles, removeDirectory, temporaryDirectory } from './support/workspace.js';

const made: string[] = [];
after(async () => Promise.all(made.map(removeDirectory)));

const GO_MOD = 'module example.com/bad\n\ngo 1.19\n';
const HELLO = 'package main\n\nfunc main() { println("hi") }\n';

/** A scratch module with these files; goci runs inside it so its dist/ is ours to watch. */
async function moduleWith(files: Record<string, string>): Promise<string> {
  const parent = await temporaryDirectory('bad');
  made.push(parent);
  // Named "bad" so the default binary name, taken from the directory, is predictable.
  const dir = join(parent, 'bad');
  for (const [name, content] of Object.entries({ 'go.mod': GO_MOD, ...files })) {
    await mkdir(dirname(join(dir, name)), { recursive: true });
    await writeFile(join(dir, name), content);
  }
  return dir;
}

/** Runs goci in `dir` and checks it failed with `exitCode` and wrote nothing under dist/. */
async function failing(
  dir: string,
  args: string[],
  exitCode: number,
  env: NodeJS.ProcessEnv = process.env,
): Promise<RunResult> {
  const result = await goci(args, { cwd: dir, env });
  assert.equal(result.exitCode, exitCode, `stdout: ${result.stdout}\nstderr: ${result.stderr}`);
  assert.deepEqual(await listFiles(join(dir, 'dist')), [], 'dist/ gained files');
  return result;
}

describe('bad input fails clearly and writes nothing', () => {
  test('an unknown platform', async () => {
    const dir = await moduleWith({ 'main.go': HELLO });
    const result = await failing(dir, ['compile', '.', '--platform', 'linux/amd64,linux/sparc99'], 2);
    assert.equal(
      lastLine(result.stderr),
      'goci: --platform: "linux/sparc99" is not a platform this Go toolchain can build (see: go tool dist list)',
    );
  });

  test('a bad arm variant', async () => {
    const dir = await moduleWith({ 'main.go': HELLO });
    const result = await failing(dir, ['compile', '.', '--platform', 'linux/arm/v9'], 2);
    assert.equal(
      lastLine(result.stderr),
      'goci: --platform: "linux/arm/v9" has an unknown arm variant "v9"; use one of v5, v6, v7',
    );
  });

  test('a package that is not package main', async () => {
    const dir = await moduleWith({ 'lib.go': 'package lib\n\nfunc X() int { return 1 }\n' });
    const result = await failing(dir, ['compile', '.', '--platform', 'linux/amd64'], 1);
    assert.equal(
      lastLine(result.stderr),
      `goci: bad (linux/amd64): . in ${dir} is not a main package, so go build made a library archive, not a program (point dir/main at the package that declares "package main" and func main)`,
    );
  });

  test('a missing directory', async () => {
    const dir = await moduleWith({});
    const result = await failing(dir, ['compile', 'cmd/nope'], 2);
    assert.equal(
      lastLine(result.stderr),
      'goci: cmd/nope: no such directory (give the directory of a Go main package (one that has package main))',
    );
  });

  test('go not on PATH', async () => {
    const dir = await moduleWith({ 'main.go': HELLO });
    const result = await failing(dir, ['compile', '.'], 1, { ...process.env, PATH: '/nonexistent' });
    assert.equal(
      lastLine(result.stderr),
      'goci: the go command was not found on PATH (install Go (on Debian/Ubuntu: apt-get install golang-go) or add its bin directory to PATH)',
    );
  });

  test("a Go syntax error shows go's file:line", async () => {
    const dir = await moduleWith({ 'main.go': 'package main\n\nfunc main() {\n\tx :=\n}\n' });
    const result = await failing(dir, ['compile', '.', '--platform', 'linux/amd64'], 1);
    assert.match(result.stderr, /^\.\/main\.go:5:1: syntax error: unexpected }/m);
    assert.equal(
      lastLine(result.stderr),
      "goci: go build failed for bad (linux/amd64); go's output is above (see the exact command with: goci compile --dry-run)",
    );
  });

  test('one failing target of several leaves no binary of the others', async () => {
    const dir = await moduleWith({ 'main.go': HELLO, 'broken_arm64.go': 'package main\n\nvar broken int = "text"\n' });
    const result = await failing(dir, ['compile', '.', '--platform', 'linux/amd64,linux/arm64,linux/arm/v7'], 1);
    assert.match(result.stderr, /broken_arm64\.go:3:18: cannot use "text"/);
  });

  test('code that needs cgo', async () => {
    const dir = await moduleWith({
      'main.go': 'package main\n\n// #include <stdio.h>\nimport "C"\n\nfunc main() { C.puts(C.CString("hi")) }\n',
    });
    const result = await failing(dir, ['compile', '.', '--platform', 'linux/amd64'], 1);
    assert.equal(
      lastLine(result.stderr),
      'goci: bad (linux/amd64): main.go uses cgo (import "C"), but goci builds static binaries with CGO_ENABLED=0 (replace the cgo dependency with a pure-Go one; scratch and distroless-static images cannot run binaries that need libc)',
    );
  });

  test('cgo forced on makes a dynamic binary, which the static check refuses', async () => {
    const dir = await moduleWith({
      'main.go': 'package main\n\n// #include <stdio.h>\nimport "C"\n\nfunc main() { C.puts(C.CString("hi")) }\n',
      'goci.yaml': 'builds:\n  - env: {CGO_ENABLED: "1"}\n    platforms: [linux/amd64]\n',
    });
    const result = await failing(dir, ['compile', '.'], 1);
    assert.match(
      lastLine(result.stderr),
      /^goci: bad \(linux\/amd64\): the binary is dynamically linked \(interpreter \/lib64\/ld-linux-x86-64\.so\.2; needs libc\.so\.6\), so it cannot run on a scratch or distroless-static image/,
    );
  });

  test('a --version that is not semver', async () => {
    const dir = await moduleWith({ 'main.go': HELLO });
    const result = await failing(dir, ['compile', '.', '--version', '1.2'], 2);
    assert.equal(
      lastLine(result.stderr),
      'goci: --version: "1.2" is not a semantic version (use MAJOR.MINOR.PATCH with optional -prerelease and +build parts, e.g. 1.2.3 or 1.3.0-rc.1)',
    );
  });

  test('a malformed goci.yaml names the field', async () => {
    const dir = await moduleWith({
      'main.go': HELLO,
      'goci.yaml': 'builds:\n  - id: a\n  - id: b\n    platforms: [linux/amd64, {os: linux}]\n',
    });
    const result = await failing(dir, ['compile', '.'], 2);
    assert.equal(
      lastLine(result.stderr),
      'goci: goci.yaml: builds[1].platforms[1]: expected a non-empty string, found a mapping (see the goci.yaml reference in the README)',
    );
  });

  test('a platform the toolchain lacks, in goci.yaml, names the file and field', async () => {
    const dir = await moduleWith({
      'main.go': HELLO,
      'goci.yaml': 'builds:\n  - id: a\n  - id: b\n    main: .\n    binary: b\n    platforms: [linux/sparc99]\n',
    });
    const result = await failing(dir, ['compile', '.'], 2);
    assert.equal(
      lastLine(result.stderr),
      'goci: goci.yaml: builds[1].platforms[0]: "linux/sparc99" is not a platform this Go toolchain can build (see: go tool dist list)',
    );
  });
});
