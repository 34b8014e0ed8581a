import assert from 'node:assert/strict';
import { open, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { execa } from 'execa';
import { CLI, goci, lastLine } from './support/goci.js';
import { removeDirectory, temporaryDirectory } from './support/workspace.js';

/**
 * `goci inspect` reads headers and sections by range: the first bytes tell the format, and a
 * file's size costs nothing but the pages its headers point at. The files here are sparse, so
 * they take no disk space however large they claim to be.
 */

const GiB = 1024 ** 3;
const MiB = 1024 ** 2;
/** What `goci inspect` may take to read any file: Node itself is ~50 MiB. */
const RSS_LIMIT_KIB = 150 * 1024;

let work: string;
let program: string;

before(async () => {
  work = await temporaryDirectory('inspect-range');
  await writeFile(join(work, 'go.mod'), 'module example.com/padded\n\ngo 1.19\n');
  await writeFile(join(work, 'main.go'), 'package main\n\nfunc main() { println("hi") }\n');
  program = join(work, 'padded');
  await execa('go', ['build', '-trimpath', '-o', program, '.'], {
    cwd: work,
    env: { ...process.env, CGO_ENABLED: '0', GOOS: 'linux', GOARCH: 'amd64', GOFLAGS: '-mod=mod' },
  });
});
after(async () => removeDirectory(work));

/** A sparse file of `size` zero bytes. */
async function sparseZeros(name: string, size: number): Promise<string> {
  const path = join(work, name);
  const handle = await open(path, 'w');
  await handle.truncate(size);
  await handle.close();
  return path;
}

interface InspectMeasured {
  exitCode: number;
  stderr: string;
  stdout: string;
  maxRssKiB: number;
}

/** The hint every "cannot read … as a program" line ends with. */
const NOT_A_PROGRAM_HINT =
  '(Pass an executable built by `go build` for Linux, Windows or macOS; ' +
  'if it was copied or downloaded, check that the copy is complete.)';

/** Runs `goci inspect FILE` under GNU time; returns the result and the peak resident set in KiB. */
async function inspectMeasured(file: string): Promise<InspectMeasured> {
  const report = join(work, 'time.txt');
  const command = [process.execPath, CLI, 'inspect', file, '--json'];
  const result = await execa('/usr/bin/time', ['-f', '%M', '-o', report, ...command], {
    reject: false,
    stdin: 'ignore',
  });
  const maxRssKiB = Number((await readFile(report, 'utf8')).trim().split('\n').at(-1));
  return { exitCode: result.exitCode ?? -1, stderr: result.stderr, stdout: result.stdout, maxRssKiB };
}

describe('goci inspect reads by range', () => {
  test('a 1.5 GB file of zeros is refused from its first bytes, in bounded memory', async () => {
    const zeros = await sparseZeros('zeros-1.5g', 1536 * MiB);
    const result = await inspectMeasured(zeros);
    assert.equal(result.exitCode, 1, result.stderr);
    assert.equal(
      lastLine(result.stderr),
      `goci: cannot read ${zeros} as a program: it is not an ELF, PE or Mach-O executable ${NOT_A_PROGRAM_HINT}`,
    );
    assert.ok(result.maxRssKiB < RSS_LIMIT_KIB, `peak RSS ${result.maxRssKiB} KiB`);
  });

  test('a file over 2 GiB gets the same answer as a small one, not a file-size error', async () => {
    const zeros = await sparseZeros('zeros-3g', 3 * GiB);
    const result = await goci(['inspect', zeros]);
    assert.equal(result.exitCode, 1, result.stderr);
    assert.equal(
      lastLine(result.stderr),
      `goci: cannot read ${zeros} as a program: it is not an ELF, PE or Mach-O executable ${NOT_A_PROGRAM_HINT}`,
    );
  });

  test('a Go program followed by 3 GiB of padding is read from its headers, in bounded memory', async () => {
    const padded = join(work, 'padded-copy');
    await writeFile(padded, await readFile(program));
    const handle = await open(padded, 'r+');
    await handle.truncate((await handle.stat()).size + 3 * GiB);
    await handle.close();
    const result = await inspectMeasured(padded);
    assert.equal(result.exitCode, 0, result.stderr);
    type Report = { os: string; arch: string; static: boolean; buildInfo: { path: string } };
    const report = JSON.parse(result.stdout) as Report;
    const read = [report.os, report.arch, report.static, report.buildInfo.path];
    assert.deepEqual(read, ['linux', 'amd64', true, 'example.com/padded']);
    assert.ok(result.maxRssKiB < RSS_LIMIT_KIB, `peak RSS ${result.maxRssKiB} KiB`);
  });

  test('a FIFO is refused as not a regular file instead of waiting for a writer', async () => {
    const fifo = join(work, 'fifo');
    await execa('mkfifo', [fifo]);
    const result = await goci(['inspect', fifo]);
    assert.equal(result.exitCode, 1, result.stderr);
    assert.equal(
      lastLine(result.stderr),
      `goci: cannot read ${fifo} as a program: it is not a regular file ${NOT_A_PROGRAM_HINT}`,
    );
  });
});
