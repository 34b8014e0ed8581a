import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { goci, lastLine } from './support/goci.js';
import { startHelloRegistry, type HelloRegistry } from './support/hello-registry.js';
import type { RegistryProxy } from './support/proxy.js';
import type { RegistryHarness } from './support/registry.js';

/**
 * Issue 10, break 9 (registry part): a 404 for a blob or an upload the registry should have is
 * the registry's failure (exit 1); a base or image reference that names nothing is the user's
 * (exit 2), and the message says how the reference was read (registry, repository, tag or digest).
 */

const LOST_HINT = 'the registry lost it (a purged upload session, a deleted blob); run the command again';
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';

let fixture: HelloRegistry | undefined;
let registry: RegistryHarness;
let proxy: RegistryProxy;
let work: string;
let layout: string;
let repo: string;
let env: NodeJS.ProcessEnv;

/** The base repository as a reference, once the proxy is up. */
let baseRepo = '';

function notFound(body: string): { kind: 'status'; status: number; body: string } {
  return { kind: 'status', status: 404, body };
}

function build(args: string[], cache = 'cache'): ReturnType<typeof goci> {
  const base = ['build', '.', '--platform', 'linux/amd64', '--version', '1.2.3', '--sbom', 'none'];
  const cacheEnv = { ...env, GOCI_CACHE_DIR: join(work, cache) };
  return goci([...base, '--progress', 'plain', ...args], { cwd: repo, env: cacheEnv });
}

async function registryJson(path: string, accept: string): Promise<any> {
  const response = await fetch(`${registry.url}${path}`, { headers: { accept } });
  assert.equal(response.status, 200, path);
  return response.json();
}

before(async () => {
  fixture = await startHelloRegistry('hardening-notfound');
  ({ registry, proxy, work, layout, repo, env } = fixture);
  baseRepo = `${proxy.host}/acme/base`;
  const pushed = await goci(['push', `oci:${layout}:1.2.3`, `${baseRepo}:1.2.3`], { env });
  assert.equal(pushed.exitCode, 0, pushed.stderr);
});
after(async () => {
  await fixture?.stop();
});

describe("a reference that names nothing is the user's to fix: exit 2, saying how it was read", () => {
  test('--base in a repository the registry does not have', async () => {
    const result = await build(['--base', `${proxy.host}/acme/nope:1`]);
    assert.equal(result.exitCode, 2);
    const hint = `check the registry and the repository name: ${proxy.host} lists no tags for acme/nope`;
    const message = `--base ${proxy.host}/acme/nope:1: repository ${proxy.host}/acme/nope does not exist`;
    assert.equal(lastLine(result.stderr), `goci: ${message} (${hint})`);
  });

  test('--base with a tag the repository does not have lists the tags it has', async () => {
    const result = await build(['--base', `${baseRepo}:9.9`]);
    assert.equal(result.exitCode, 2);
    const message = `--base ${baseRepo}:9.9: tag "9.9" is not in ${baseRepo} (its tags: 1.2.3)`;
    assert.equal(lastLine(result.stderr), `goci: ${message} (name one of its tags, such as ${baseRepo}:1.2.3)`);
  });

  test('--base with a digest the repository does not have', async () => {
    const digest = `sha256:${'0'.repeat(64)}`;
    const result = await build(['--base', `${baseRepo}@${digest}`]);
    assert.equal(result.exitCode, 2);
    const message = `--base ${baseRepo}@${digest}: manifest ${digest} is not in ${baseRepo} (its tags: 1.2.3)`;
    const hint = `check the digest, or name a tag, such as ${baseRepo}:1.2.3`;
    assert.equal(lastLine(result.stderr), `goci: ${message} (${hint})`);
  });

  test('goci inspect docker://… of a tag that does not exist', async () => {
    const result = await goci(['inspect', `docker://${baseRepo}:9.9`], { env });
    assert.equal(result.exitCode, 2);
    const message = `tag "9.9" is not in ${baseRepo} (its tags: 1.2.3)`;
    const hint = `name one of its tags, such as docker://${baseRepo}:1.2.3`;
    assert.equal(lastLine(result.stderr), `goci: ${message} (${hint})`);
  });
});

describe("a 404 for what the registry should hold is the registry's failure: exit 1", () => {
  test('a base layer the registry answers 404 for during the base download', async () => {
    const index = await registryJson('/v2/acme/base/manifests/1.2.3', OCI_INDEX);
    const manifest = await registryJson(`/v2/acme/base/manifests/${index.manifests[0].digest}`, OCI_MANIFEST);
    const layer = manifest.layers[0].digest as string;
    const body = JSON.stringify({ errors: [{ code: 'BLOB_UNKNOWN', message: 'blob unknown' }] });
    const path = new RegExp(`/blobs/${layer}$`);
    proxy.addFault({ method: 'GET', path, times: 100, fault: { kind: 'status', status: 404, body } });
    const result = await build(['--base', `${baseRepo}:1.2.3`, '--dist', join(work, 'base-dist')], 'cold');
    proxy.clearFaults();
    assert.equal(result.exitCode, 1);
    const message = `${proxy.host}: GET blob ${layer}: the registry answered 404 (BLOB_UNKNOWN blob unknown)`;
    assert.equal(lastLine(result.stderr), `goci: ${message} (${LOST_HINT})`);
  });

  test('an upload session the registry answers 404 for during a push', async () => {
    proxy.reset();
    const body = JSON.stringify({ errors: [{ code: 'BLOB_UPLOAD_UNKNOWN', message: 'gone' }] });
    proxy.addFault({ method: 'PUT', path: /\/blobs\/uploads\//, times: 100, fault: notFound(body) });
    // A cache of its own: the record of the base's push would have the blobs mounted, not uploaded.
    const fresh = { ...env, GOCI_CACHE_DIR: join(work, 'upload-lost-cache') };
    const result = await goci(['push', `oci:${layout}:1.2.3`, `${proxy.host}/acme/upload-lost:1.2.3`], { env: fresh });
    proxy.clearFaults();
    assert.equal(result.exitCode, 1);
    const line = lastLine(result.stderr);
    // Which blob's upload fails first depends on which of the parallel uploads gets there first.
    const blob = /^goci: 127\.0\.0\.1:\d+: upload of blob (sha256:[0-9a-f]{64}): /.exec(line)?.[1];
    assert.ok(blob, line);
    const message = `${proxy.host}: upload of blob ${blob}: the registry answered 404 (BLOB_UPLOAD_UNKNOWN gone)`;
    assert.equal(line, `goci: ${message} (${LOST_HINT})`);
  });
});
