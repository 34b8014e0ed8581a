import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { goci } from './support/goci.js';
import { startHelloRegistry, type HelloRegistry } from './support/hello-registry.js';
import type { RegistryProxy } from './support/proxy.js';

/**
 * Issue 10, break 10: waiting is visible. Every wait between tries (a Retry-After, or goci's
 * own backoff after a 5xx) is a progress event, so a CI log never goes silent. The proxy
 * answers one request 429 with Retry-After: 1 (or 503), and the run still succeeds.
 */

/** 429 with Retry-After: 1, once. */
const TOO_MANY = { kind: 'status' as const, status: 429, headers: { 'Retry-After': '1' } };

let fixture: HelloRegistry | undefined;
let proxy: RegistryProxy;
let work: string;
let layout: string;
let repo: string;
let env: NodeJS.ProcessEnv;

/** The stderr lines about registry waits. */
function waitLines(stderr: string): string[] {
  return stderr.split('\n').filter((line) => line.includes('registry') && line.includes('retrying'));
}

before(async () => {
  fixture = await startHelloRegistry('hardening-waits');
  ({ proxy, work, layout, repo, env } = fixture);
  const pushed = await goci(['push', `oci:${layout}:1.2.3`, `${proxy.host}/acme/hello:1.2.3`], { env });
  assert.equal(pushed.exitCode, 0, pushed.stderr);
});
after(async () => {
  await fixture?.stop();
});

describe('a wait between tries is a progress event', () => {
  test('goci push (plain: stderr is no terminal), 429 + Retry-After: 1: "registry asked to wait 1s"', async () => {
    proxy.reset();
    proxy.addFault({ method: 'HEAD', path: /\/manifests\//, fault: TOO_MANY });
    const result = await goci(['push', `oci:${layout}:1.2.3`, `${proxy.host}/acme/plain:1.2.3`], { env });
    proxy.clearFaults();
    assert.equal(result.exitCode, 0, result.stderr);
    assert.deepEqual(waitLines(result.stderr), ['goci: registry asked to wait 1s (429), retrying']);
    assert.equal(proxy.records.filter((record) => record.status === 429).length, 1);
  });

  test('goci build --push, --progress json: the wait is one JSON event', async () => {
    proxy.reset();
    proxy.addFault({ method: 'HEAD', path: /\/manifests\//, fault: TOO_MANY });
    const args = ['build', '.', '--platform', 'linux/amd64', '--version', '1.2.3', '--sbom', 'none'];
    const result = await goci([...args, '--push', `${proxy.host}/acme/json`, '--progress', 'json'], { cwd: repo, env });
    proxy.clearFaults();
    assert.equal(result.exitCode, 0, result.stderr);
    const lines = result.stderr.split('\n').filter((line) => line.startsWith('{'));
    // Each event carries the time it was reported; the rest is exact.
    const events = lines.map((line) => {
      const { time, ...event } = JSON.parse(line) as { kind: string; time: string };
      assert.match(time, /Z$/);
      return event;
    });
    const wait = { kind: 'registry-wait', registry: proxy.host, reason: '429', retryAfter: true, delayMs: 1000 };
    const tries = { attempt: 2, attempts: 5 };
    assert.deepEqual(
      events.filter((event) => event.kind === 'registry-wait'),
      [{ ...wait, ...tries }],
    );
  });

  test('goci push: a 503 without Retry-After prints the backoff and the try that follows', async () => {
    proxy.reset();
    proxy.addFault({ method: 'HEAD', path: /\/manifests\//, fault: { kind: 'status', status: 503 } });
    const result = await goci(['push', `oci:${layout}:1.2.3`, `${proxy.host}/acme/backoff:1.2.3`], { env });
    proxy.clearFaults();
    assert.equal(result.exitCode, 0, result.stderr);
    const lines = waitLines(result.stderr);
    assert.equal(lines.length, 1, result.stderr);
    // The first backoff is 125-250 ms (jitter): printed to a tenth of a second.
    assert.match(lines[0]!, /^goci: registry answered 503, retrying in 0\.[123]s \(2\/5\)$/);
  });

  test("goci build with a registry base: the base resolution's wait is printed", async () => {
    proxy.reset();
    proxy.addFault({ method: 'GET', path: /\/acme\/hello\/manifests\/1\.2\.3$/, fault: TOO_MANY });
    const args = ['build', '.', '--platform', 'linux/amd64', '--version', '1.2.3', '--sbom', 'none'];
    const base = `${proxy.host}/acme/hello:1.2.3`;
    const dist = join(work, 'on-base');
    const result = await goci([...args, '--progress', 'plain', '--base', base, '--dist', dist], { cwd: repo, env });
    proxy.clearFaults();
    assert.equal(result.exitCode, 0, result.stderr);
    assert.deepEqual(waitLines(result.stderr), ['goci: registry asked to wait 1s (429), retrying']);
  });

  test('goci inspect docker://…: the wait is printed on stderr, the report on stdout', async () => {
    proxy.reset();
    proxy.addFault({ method: 'GET', path: /\/acme\/hello\/manifests\/1\.2\.3$/, fault: TOO_MANY });
    const result = await goci(['inspect', `docker://${proxy.host}/acme/hello:1.2.3`, '--json'], { env });
    proxy.clearFaults();
    assert.equal(result.exitCode, 0, result.stderr);
    assert.deepEqual(waitLines(result.stderr), ['goci: registry asked to wait 1s (429), retrying']);
    assert.equal(waitLines(result.stdout).length, 0);
  });
});
