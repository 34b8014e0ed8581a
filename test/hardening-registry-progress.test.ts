import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { makeProgress, type ProgressEvent } from '../cli/progress.js';

/**
 * Issue 10, break 10, the displays: a registry wait reads the same in every mode. The server's
 * Retry-After is named as such; goci's own backoff says what failed, how long and which try follows.
 */

const WAIT = { kind: 'registry-wait', registry: 'ghcr.io', attempts: 5 } as const;
const ASKED: ProgressEvent = { ...WAIT, reason: '429', retryAfter: true, delayMs: 30_000, attempt: 2 };
const BACKOFF: ProgressEvent = { ...WAIT, reason: '503', retryAfter: false, delayMs: 1234, attempt: 2 };
const DROPPED: ProgressEvent = { ...WAIT, reason: 'ECONNRESET', retryAfter: false, delayMs: 500, attempt: 3 };

function shown(mode: 'plain' | 'tty' | 'json', events: ProgressEvent[]): string {
  const out = {
    isTTY: mode === 'tty',
    text: '',
    write(chunk: string) {
      out.text += chunk;
      return true;
    },
  };
  const progress = makeProgress(mode, false, out as unknown as NodeJS.WriteStream);
  for (const event of events) progress.report(event);
  return out.text;
}

describe('a registry wait on every display', () => {
  test('plain: the Retry-After the registry asked for', () => {
    assert.equal(shown('plain', [ASKED]), 'goci: registry asked to wait 30s (429), retrying\n');
  });

  test('plain: the backoff after a 5xx and after a dropped connection, with the try that follows', () => {
    assert.equal(
      shown('plain', [BACKOFF, DROPPED]),
      [
        'goci: registry answered 503, retrying in 1.2s (2/5)',
        'goci: registry connection failed (ECONNRESET), retrying in 0.5s (3/5)',
        '',
      ].join('\n'),
    );
  });

  test('json: the event as one line, with the time it was reported', () => {
    const { time, ...event } = JSON.parse(shown('json', [ASKED])) as ProgressEvent & { time: string };
    assert.deepEqual(event, ASKED);
    assert.match(time, /^\d{4}-\d\d-\d\dT[\d:.]+Z$/);
  });

  test('tty: one line per registry in the live block, rewritten by the next wait', () => {
    assert.equal(
      shown('tty', [BACKOFF, DROPPED]),
      [
        '\x1b[2Kregistry answered 503, retrying in 1.2s (2/5)\n',
        '\x1b[1F\x1b[2Kregistry connection failed (ECONNRESET), retrying in 0.5s (3/5)\n',
      ].join(''),
    );
  });
});
