import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { makeProgress, type ProgressEvent } from '../cli/progress.js';
import { warn } from '../common/warn.js';

const EVENTS: ProgressEvent[] = [
  { kind: 'compile-start', target: 'hello linux/amd64', command: 'go build …' },
  { kind: 'compile-start', target: 'hello linux/arm64', command: 'go build …' },
  { kind: 'compile-done', target: 'hello linux/amd64', size: 1257472, seconds: 0.25, cached: false },
  { kind: 'compile-done', target: 'hello linux/arm64', size: 1245184, seconds: 0.01, cached: true },
  { kind: 'image-done', image: 'hello:1.2.3', digest: 'sha256:abc' },
];

/** A stand-in for process.stderr that records what was written. */
function stream(isTTY: boolean): NodeJS.WriteStream & { text: string } {
  const fake = {
    isTTY,
    text: '',
    write(chunk: string) {
      fake.text += chunk;
      return true;
    },
  };
  return fake as unknown as NodeJS.WriteStream & { text: string };
}

function run(mode: 'plain' | 'tty' | 'json' | undefined, isTTY: boolean, verbose = false): string {
  const out = stream(isTTY);
  const progress = makeProgress(mode, verbose, out);
  for (const event of EVENTS) progress.report(event);
  progress.finish();
  return out.text;
}

describe('progress', () => {
  test('plain: one goci: line per event', () => {
    assert.equal(
      run('plain', false),
      [
        'goci: compiling hello linux/amd64',
        'goci: compiling hello linux/arm64',
        'goci: compiled hello linux/amd64 (1.2 MiB, 0.25s)',
        'goci: compiled hello linux/arm64 (1.2 MiB, cached)',
        'goci: assembled hello:1.2.3 sha256:abc',
        '',
      ].join('\n'),
    );
  });

  test('plain with --verbose shows the exact command', () => {
    assert.match(run('plain', false, true), /^goci: compiling hello linux\/amd64: go build …$/m);
  });

  test('json: one object per line, the events themselves', () => {
    assert.deepEqual(
      run('json', false)
        .trimEnd()
        .split('\n')
        .map((line) => JSON.parse(line)),
      EVENTS,
    );
  });

  test('tty: each target keeps one line, rewritten in place, and the block is cleared at the end', () => {
    const text = run('tty', true);
    // The fourth draw moves up over the three lines drawn before it and rewrites them.
    assert.ok(
      text.includes('\x1b[2F\x1b[2Kcompiled hello linux/amd64 (1.2 MiB, 0.25s)\n\x1b[2Kcompiling hello linux/arm64\n'),
      JSON.stringify(text),
    );
    assert.ok(text.endsWith('\x1b[3F\x1b[0J'), JSON.stringify(text.slice(-20)));
  });

  test('tty: a warning is written above the block, which is drawn again below it', () => {
    const out = stream(true);
    const progress = makeProgress('tty', false, out);
    progress.report(EVENTS[0]!);
    warn('cached layer sha256:abc did not match its digest');
    progress.finish();
    assert.equal(
      out.text,
      '\x1b[2Kcompiling hello linux/amd64\n' +
        '\x1b[1F\x1b[0Jgoci: warning: cached layer sha256:abc did not match its digest\n' +
        '\x1b[2Kcompiling hello linux/amd64\n' +
        '\x1b[1F\x1b[0J',
    );
  });

  test('without --progress: live on a terminal, lines elsewhere', () => {
    assert.ok(run(undefined, true).includes('\x1b['));
    assert.ok(!run(undefined, false).includes('\x1b['));
  });
});
