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

  test('json: one object per line, the events themselves with the time each was reported', () => {
    const objects = run('json', false)
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as ProgressEvent & { time: string });
    assert.deepEqual(
      objects.map(({ time, ...event }) => event),
      EVENTS,
    );
    for (const { time } of objects) assert.match(time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
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

  test('TERM=dumb: lines, even on a terminal and even asked for tty', () => {
    for (const mode of [undefined, 'tty'] as const) {
      const out = stream(true);
      const progress = makeProgress(mode, false, out, { TERM: 'dumb' });
      for (const event of EVENTS) progress.report(event);
      progress.finish();
      assert.equal(out.text.split('\n')[0], 'goci: compiling hello linux/amd64');
      assert.ok(!out.text.includes('\x1b'), JSON.stringify(out.text));
    }
  });

  test('tty: a line wider than the terminal is cut to fit, so it never wraps', () => {
    const out = Object.assign(stream(true), { columns: 40, rows: 24 });
    const progress = makeProgress('tty', false, out, {});
    progress.report({ kind: 'image-done', image: 'ghcr.io/acme/api:1.2.3', digest: `sha256:${'a'.repeat(64)}` });
    progress.finish();
    assert.equal(out.text, '\x1b[2Kassembled ghcr.io/acme/api:1.2.3 sha25…\n\x1b[1F\x1b[0J');
  });

  test('tty: more lines than the terminal has rows are summed up in the first', () => {
    const out = Object.assign(stream(true), { columns: 80, rows: 4 });
    const progress = makeProgress('tty', false, out, {});
    for (const name of ['a', 'b', 'c', 'd', 'e'])
      progress.report({ kind: 'compile-done', target: name, size: 1024, seconds: 1, cached: false });
    const last = out.text.slice(out.text.lastIndexOf('\x1b[3F'));
    progress.finish();
    assert.equal(
      last,
      '\x1b[3F\x1b[2K… 3 earlier lines\n\x1b[2Kcompiled d (1.0 KiB, 1.00s)\n\x1b[2Kcompiled e (1.0 KiB, 1.00s)\n',
    );
  });

  test('tty: a step under way shows its elapsed seconds, counted each second until it is done', (context) => {
    context.mock.timers.enable({ apis: ['setInterval', 'Date'], now: 0 });
    const out = stream(true);
    const progress = makeProgress('tty', false, out, {});
    progress.report(EVENTS[0]!);
    context.mock.timers.tick(3000);
    assert.ok(out.text.endsWith('\x1b[1F\x1b[2Kcompiling hello linux/amd64 (3s)\n'), JSON.stringify(out.text));
    progress.report(EVENTS[2]!);
    const done = out.text.length;
    context.mock.timers.tick(5000);
    // Nothing under way: no more redraws.
    assert.equal(out.text.length, done);
    progress.finish();
  });

  test('uploads: a line per blob in plain mode, one line per registry kept up to date on a terminal', () => {
    const uploads: ProgressEvent[] = [
      { kind: 'upload', registry: 'r.example', repository: 'acme/api', bytes: 2048, totalBlobs: 1, totalBytes: 2048 },
      {
        kind: 'upload',
        registry: 'r.example',
        repository: 'acme/api',
        bytes: 1048576,
        totalBlobs: 2,
        totalBytes: 1050624,
      },
    ];
    const plain = stream(false);
    const lines = makeProgress('plain', false, plain, {});
    for (const event of uploads) lines.report(event);
    assert.equal(
      plain.text,
      'goci: uploaded 2.0 KiB to r.example/acme/api (1 blob, 2.0 KiB in all)\n' +
        'goci: uploaded 1.0 MiB to r.example/acme/api (2 blobs, 1.0 MiB in all)\n',
    );
    const live = stream(true);
    const display = makeProgress('tty', false, live, {});
    for (const event of uploads) display.report(event);
    display.finish();
    assert.ok(
      live.text.endsWith(
        '\x1b[1F\x1b[2Kuploaded 1.0 MiB to r.example/acme/api (2 blobs, 1.0 MiB in all)\n\x1b[1F\x1b[0J',
      ),
      JSON.stringify(live.text),
    );
  });
});
