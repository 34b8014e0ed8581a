import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { goci, lastLine } from './support/goci.js';
import { startHelloRegistry, type HelloRegistry } from './support/hello-registry.js';
import type { RegistryProxy } from './support/proxy.js';
import type { RegistryHarness } from './support/registry.js';

/**
 * Issue 10, break 8: a failed push moves no tag it should not. The exact version tag is written
 * first, the moving tags only after it; a failure says which tags were updated and which were
 * not; under --json every failure is one JSON object on stdout, the `goci:` line on stderr.
 * The proxy fails one tag's PUT every time, so the transport's retries run out (5 tries).
 */

const TAGS = '1.2.3,1.2,1,latest';
const INJECTED = 'UNKNOWN injected 500';
/** What every failed-tag JSON starts with: a registry that keeps answering 500 is unreachable (exit 1). */
const UNREACHABLE = { code: 'REGISTRY_UNREACHABLE', hint: null, exitCode: 1 };

let fixture: HelloRegistry | undefined;
let registry: RegistryHarness;
let proxy: RegistryProxy;
let layout: string;
let repo: string;
let env: NodeJS.ProcessEnv;

/** Tag PUTs the proxy saw for `repository`, in the order they arrived. */
function tagPuts(repository: string): string[] {
  const prefix = `/v2/${repository}/manifests/`;
  const tagged = proxy.records.filter((record) => record.method === 'PUT' && record.path.startsWith(prefix));
  const references = tagged.map((record) => record.path.slice(prefix.length));
  return references.filter((reference) => !reference.startsWith('sha256:'));
}

/** The proxy answers every PUT of `tag` in `repository` with 500: no retry gets through. */
function failTag(repository: string, tag: string): void {
  const path = new RegExp(`^/v2/${repository}/manifests/${tag.replace(/\./g, '\\.')}$`);
  proxy.addFault({ method: 'PUT', path, times: 100, fault: { kind: 'status', status: 500 } });
}

/** The message of the last try's 500 for `tag`. */
function answered(tag: string): string {
  return `${proxy.host}: PUT manifest ${tag}: the registry answered 500: ${INJECTED}`;
}

/** The repository's tags as the registry itself lists them (not through goci). */
async function registryTags(repository: string): Promise<string[]> {
  const response = await fetch(`${registry.url}/v2/${repository}/tags/list`);
  const body = (await response.json()) as { tags?: string[] | null };
  return [...(body.tags ?? [])].sort();
}

function push(repository: string): ReturnType<typeof goci> {
  return goci(['push', `oci:${layout}:1.2.3`, `${proxy.host}/${repository}`, '--tags', TAGS, '--json'], { env });
}

before(async () => {
  fixture = await startHelloRegistry('hardening-tags');
  ({ registry, proxy, layout, repo, env } = fixture);
});
after(async () => {
  await fixture?.stop();
});

describe('a failed push moves no tag it should not', () => {
  test('when the exact version tag fails, no moving tag (1.2, 1, latest) is written', async () => {
    proxy.reset();
    proxy.clearFaults();
    failTag('acme/exact', '1.2.3');
    const result = await push('acme/exact');
    proxy.clearFaults();
    assert.equal(result.exitCode, 1);
    assert.deepEqual(tagPuts('acme/exact'), ['1.2.3', '1.2.3', '1.2.3', '1.2.3', '1.2.3'], 'five tries, no other tag');
    assert.deepEqual(await registryTags('acme/exact'), []);
    const message = `${answered('1.2.3')}; tags updated: none; not updated: 1.2.3, 1.2, 1, latest`;
    assert.equal(lastLine(result.stderr), `goci: ${message}`);
    const tags = { updated: [], notUpdated: ['1.2.3', '1.2', '1', 'latest'] };
    assert.deepEqual(JSON.parse(result.stdout), { ...UNREACHABLE, message, tags });
  });

  test('when a moving tag fails, the exact tag went first and the error lists the tags updated and not', async () => {
    proxy.reset();
    failTag('acme/moving', '1');
    const result = await push('acme/moving');
    proxy.clearFaults();
    assert.equal(result.exitCode, 1);
    const puts = tagPuts('acme/moving');
    assert.equal(puts[0], '1.2.3');
    assert.deepEqual(
      puts.filter((tag) => tag === '1'),
      ['1', '1', '1', '1', '1'],
    );
    assert.deepEqual(puts.filter((tag) => tag !== '1').sort(), ['1.2', '1.2.3', 'latest']);
    assert.deepEqual(await registryTags('acme/moving'), ['1.2', '1.2.3', 'latest']);
    const message = `${answered('1')}; tags updated: 1.2.3, 1.2, latest; not updated: 1`;
    assert.equal(lastLine(result.stderr), `goci: ${message}`);
    const tags = { updated: ['1.2.3', '1.2', 'latest'], notUpdated: ['1'] };
    assert.deepEqual(JSON.parse(result.stdout), { ...UNREACHABLE, message, tags });
  });

  test('goci build --push --json: a failed tag is reported as JSON on stdout with the tags', async () => {
    proxy.reset();
    failTag('acme/built', 'latest');
    const target = `${proxy.host}/acme/built`;
    const args = ['build', '.', '--platform', 'linux/amd64', '--version', '1.2.3', '--push', target];
    const result = await goci([...args, '--sbom', 'none', '--progress', 'plain', '--json'], { cwd: repo, env });
    proxy.clearFaults();
    assert.equal(result.exitCode, 1);
    const message = `${answered('latest')}; tags updated: 1.2.3, 1.2, 1; not updated: latest`;
    assert.equal(lastLine(result.stderr), `goci: ${message}`);
    const tags = { updated: ['1.2.3', '1.2', '1'], notUpdated: ['latest'] };
    assert.deepEqual(JSON.parse(result.stdout), { ...UNREACHABLE, message, tags });
    assert.deepEqual(await registryTags('acme/built'), ['1', '1.2', '1.2.3']);
  });
});

describe('--json failures are one JSON object on stdout', () => {
  test('goci push --json, a layout tag that does not exist: the code, message, hint and exit code', async () => {
    const result = await goci(['push', `oci:${layout}:9.9.9`, `${proxy.host}/acme/none`, '--json'], { env });
    assert.equal(result.exitCode, 2);
    const failure = JSON.parse(result.stdout) as { message: string; hint: string | null; exitCode: number };
    assert.equal(failure.exitCode, 2);
    assert.equal(lastLine(result.stderr), `goci: ${failure.message}${failure.hint ? ` (${failure.hint})` : ''}`);
    assert.deepEqual(Object.keys(failure), ['code', 'message', 'hint', 'exitCode']);
  });

  test('goci push --json with a missing argument (a usage error commander reports)', async () => {
    const result = await goci(['push', `oci:${layout}:1.2.3`, '--json'], { env });
    assert.equal(result.exitCode, 2);
    assert.equal(lastLine(result.stderr), "goci: missing required argument 'repository'");
    const message = "missing required argument 'repository'";
    assert.deepEqual(JSON.parse(result.stdout), { code: 'BAD_ARGUMENT', message, hint: null, exitCode: 2 });
  });

  test('goci inspect --json of a repository the registry does not have', async () => {
    const result = await goci(['inspect', `docker://${proxy.host}/acme/nothing:1`, '--json'], { env });
    assert.equal(result.exitCode, 2);
    const message = `repository ${proxy.host}/acme/nothing does not exist`;
    const hint = `check the registry and the repository name: ${proxy.host} lists no tags for acme/nothing`;
    assert.equal(lastLine(result.stderr), `goci: ${message} (${hint})`);
    assert.deepEqual(JSON.parse(result.stdout), { code: 'NOT_FOUND', message, hint, exitCode: 2 });
  });

  test('without --json a failure prints nothing on stdout', async () => {
    const result = await goci(['inspect', `docker://${proxy.host}/acme/nothing:1`], { env });
    assert.equal(result.exitCode, 2);
    assert.equal(result.stdout, '');
  });
});
