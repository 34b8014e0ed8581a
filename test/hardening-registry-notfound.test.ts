import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { goci, lastLine } from './support/goci.js';
import { helloLayout } from './support/layout-fixture.js';
import { startProxy, type RegistryProxy } from './support/proxy.js';
import { startRegistry, type RegistryHarness } from './support/registry.js';
import { removeDirectory, temporaryDirectory } from './support/workspace.js';

/**
 * Issue 10, break 9 (registry part): a 404 for a blob or an upload the registry should have is
 * the registry's failure (exit 1); a base or image reference that names nothing is the user's
 * (exit 2), and the message says how the reference was read (registry, repository, tag or digest).
 */

const LOST_HINT = 'the registry lost it (a purged upload session, a deleted blob); run the command again';
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';

let registry: RegistryHarness;
let proxy: RegistryProxy;
let work: string;
let layout: string;
let repo: string;
let env: NodeJS.ProcessEnv;

function build(args: string[], cache = 'cache'): ReturnType<typeof goci> {
  const base = ['build', '.', '--platform', 'linux/amd64', '--version', '1.2.3', '--sbom', 'none', '--progress', 'plain'];
  return goci([...base, ...args], { cwd: repo, env: { ...env, GOCI_CACHE_DIR: join(work, cache) } });
}

async function registryJson(path: string, accept: string): Promise<any> {
  const response = await fetch(`${registry.url}${path}`, { headers: { accept } });
  assert.equal(response.status, 200, path);
  return response.json();
}

before(async () => {
  work = await temporaryDirectory('hardening-notfound');
  env = { ...process.env, SOURCE_DATE_EPOCH: '1714564800', GOCI_CACHE_DIR: join(work, 'cache'), DOCKER_CONFIG: join(work, 'no-docker-config') };
  registry = await startRegistry();
  proxy = await startProxy(registry.url);
  ({ layout, repo } = await helloLayout(work, env));
  const pushed = await goci(['push', `oci:${layout}:1.2.3`, `${proxy.host}/acme/base:1.2.3`], { env });
  assert.equal(pushed.exitCode, 0, pushed.stderr);
});
after(async () => {
  await proxy?.stop();
  await registry?.stop();
  await Promise.all([work, repo].map(removeDirectory));
});

describe('a reference that names nothing is the user\'s to fix: exit 2, saying how it was read', () => {
  test('--base in a repository the registry does not have', async () => {
    const result = await build(['--base', `${proxy.host}/acme/nope:1`]);
    assert.equal(result.exitCode, 2);
    assert.equal(lastLine(result.stderr), `goci: --base ${proxy.host}/acme/nope:1: repository ${proxy.host}/acme/nope does not exist (check the registry and the repository name: ${proxy.host} lists no tags for acme/nope)`);
  });

  test('--base with a tag the repository does not have lists the tags it has', async () => {
    const result = await build(['--base', `${proxy.host}/acme/base:9.9`]);
    assert.equal(result.exitCode, 2);
    assert.equal(lastLine(result.stderr), `goci: --base ${proxy.host}/acme/base:9.9: tag "9.9" is not in ${proxy.host}/acme/base (its tags: 1.2.3) (name one of its tags, such as ${proxy.host}/acme/base:1.2.3)`);
  });

  test('--base with a digest the repository does not have', async () => {
    const digest = `sha256:${'0'.repeat(64)}`;
    const result = await build(['--base', `${proxy.host}/acme/base@${digest}`]);
    assert.equal(result.exitCode, 2);
    assert.equal(lastLine(result.stderr), `goci: --base ${proxy.host}/acme/base@${digest}: manifest ${digest} is not in ${proxy.host}/acme/base (its tags: 1.2.3) (check the digest, or name a tag, such as ${proxy.host}/acme/base:1.2.3)`);
  });

  test('goci inspect docker://… of a tag that does not exist', async () => {
    const result = await goci(['inspect', `docker://${proxy.host}/acme/base:9.9`], { env });
    assert.equal(result.exitCode, 2);
    assert.equal(lastLine(result.stderr), `goci: tag "9.9" is not in ${proxy.host}/acme/base (its tags: 1.2.3) (name one of its tags, such as docker://${proxy.host}/acme/base:1.2.3)`);
  });
});

describe('a 404 for what the registry should hold is the registry\'s failure: exit 1', () => {
  test('a base layer the registry answers 404 for during the base download', async () => {
    const index = await registryJson('/v2/acme/base/manifests/1.2.3', OCI_INDEX);
    const manifest = await registryJson(`/v2/acme/base/manifests/${index.manifests[0].digest}`, OCI_MANIFEST);
    const layer = manifest.layers[0].digest as string;
    const body = JSON.stringify({ errors: [{ code: 'BLOB_UNKNOWN', message: 'blob unknown to registry' }] });
    proxy.addFault({ method: 'GET', path: new RegExp(`/blobs/${layer}$`), times: 100, fault: { kind: 'status', status: 404, body } });
    const result = await build(['--base', `${proxy.host}/acme/base:1.2.3`, '--dist', join(work, 'base-dist')], 'cold-cache');
    proxy.clearFaults();
    assert.equal(result.exitCode, 1);
    assert.equal(lastLine(result.stderr), `goci: ${proxy.host}: GET blob ${layer}: the registry answered 404 (BLOB_UNKNOWN blob unknown to registry) (${LOST_HINT})`);
  });

  test('an upload session the registry answers 404 for during a push', async () => {
    proxy.reset();
    const body = JSON.stringify({ errors: [{ code: 'BLOB_UPLOAD_UNKNOWN', message: 'blob upload unknown to registry' }] });
    proxy.addFault({ method: 'PUT', path: /\/blobs\/uploads\//, times: 100, fault: { kind: 'status', status: 404, body } });
    const result = await goci(['push', `oci:${layout}:1.2.3`, `${proxy.host}/acme/upload-lost:1.2.3`], { env });
    proxy.clearFaults();
    assert.equal(result.exitCode, 1);
    const line = lastLine(result.stderr);
    const match = /^goci: 127\.0\.0\.1:\d+: upload of blob (sha256:[0-9a-f]{64}): the registry answered 404 \(BLOB_UPLOAD_UNKNOWN blob upload unknown to registry\) \((.*)\)$/.exec(line);
    assert.ok(match, line);
    assert.equal(match[2], LOST_HINT);
    assert.ok(line.startsWith(`goci: ${proxy.host}: `), line);
  });
});
