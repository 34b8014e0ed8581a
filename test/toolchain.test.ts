import assert from 'node:assert/strict';
import { chmod, mkdir, readFile, utimes, writeFile } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { execa } from 'execa';
import { readToolchain } from '../compiler/toolchain.js';
import { removeDirectory, temporaryDirectory } from './support/workspace.js';

let work: string;
let log: string;
let env: NodeJS.ProcessEnv;

/** A `go` first on PATH that writes each of its command lines to a log, then runs the real go. */
before(async () => {
  work = await temporaryDirectory('toolchain');
  log = join(work, 'calls.log');
  const realGo = (await execa('sh', ['-c', 'command -v go'])).stdout.trim();
  const go = join(work, 'bin', 'go');
  await mkdir(join(work, 'bin'), { recursive: true });
  await writeFile(go, `#!/bin/sh\necho "$*" >> ${JSON.stringify(log)}\nexec ${JSON.stringify(realGo)} "$@"\n`);
  await chmod(go, 0o755);
  env = {
    ...process.env,
    PATH: `${join(work, 'bin')}${delimiter}${process.env.PATH}`,
    GOCI_CACHE_DIR: join(work, 'cache'),
  };
});
after(async () => removeDirectory(work));

const calls = async (): Promise<string[]> => (await readFile(log, 'utf8').catch(() => '')).split('\n').filter(Boolean);

describe("the toolchain's ports", () => {
  test("are asked of go once, then read from goci's cache: the same list, no go started", async () => {
    const first = await readToolchain(env);
    const second = await readToolchain(env);
    assert.deepEqual(await calls(), ['tool dist list -json']);
    assert.deepEqual(second, first);
    assert.ok(first.ports.some((port) => port.os === 'linux' && port.arch === 'arm64'));
  });

  test('are asked again when the go binary changes', async () => {
    const later = new Date('2030-01-01T00:00:00Z');
    await utimes(join(work, 'bin', 'go'), later, later);
    await readToolchain(env);
    assert.deepEqual(await calls(), ['tool dist list -json', 'tool dist list -json']);
  });

  test('are asked again under another GOROOT', async () => {
    const goroot = (await execa('go', ['env', 'GOROOT'])).stdout.trim();
    await readToolchain({ ...env, GOROOT: goroot });
    assert.deepEqual(await calls(), ['tool dist list -json', 'tool dist list -json', 'tool dist list -json']);
  });
});
