import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { execa } from 'execa';
import { goci, lastLine } from './support/goci.js';
import { startProxy, type RegistryProxy } from './support/proxy.js';
import { startRegistry, type RegistryHarness } from './support/registry.js';
import { startTokenServer, type TokenServer } from './support/token-server.js';
import { exampleRepository, removeDirectory, temporaryDirectory } from './support/workspace.js';

const USER = 'alice';
const PASSWORD = 'T0ken-Secret-Pa55';

let tokens: TokenServer;
let registry: RegistryHarness;
let proxy: RegistryProxy;
let repo: string;
let env: NodeJS.ProcessEnv;

before(async () => {
  const work = await temporaryDirectory('push-token');
  tokens = await startTokenServer({
    user: USER,
    password: PASSWORD,
    access: (user, type, name) =>
      type !== 'repository' || !user ? [] : name.startsWith('readonly/') ? ['pull'] : ['pull', 'push'],
  });
  registry = await startRegistry({
    auth: {
      token: {
        realm: tokens.realm,
        service: tokens.service,
        issuer: tokens.issuer,
        rootCertBundle: tokens.rootCertBundle,
      },
    },
  });
  proxy = await startProxy(registry.url);
  repo = await exampleRepository('hello', 'push-token');
  await mkdir(join(work, 'docker'), { recursive: true });
  await writeFile(
    join(work, 'docker', 'config.json'),
    JSON.stringify({ auths: { [proxy.host]: { auth: Buffer.from(`${USER}:${PASSWORD}`).toString('base64') } } }),
  );
  env = {
    ...process.env,
    DOCKER_CONFIG: join(work, 'docker'),
    SOURCE_DATE_EPOCH: '1714564800',
    GOCI_CACHE_DIR: join(work, 'cache'),
  };
  made.push(work);
});
const made: string[] = [];
after(async () => {
  await proxy?.stop();
  await registry?.stop();
  await tokens?.stop();
  await Promise.all([repo, ...made].map(removeDirectory));
});

function build(args: string[]): ReturnType<typeof goci> {
  return goci(
    [
      'build',
      '.',
      '--platform',
      'linux/amd64,linux/arm64,linux/arm/v7',
      '--version',
      '1.2.3',
      '--progress',
      'plain',
      ...args,
    ],
    { cwd: repo, env },
  );
}

describe('pushing with token auth', () => {
  test('a 3-platform push through the token server, asking for pull,push on the target', async () => {
    const result = await build(['--push', `${proxy.host}/acme/hello`]);
    assert.equal(result.exitCode, 0, result.stderr);
    assert.ok(
      tokens.requests.some(
        (request) => request.user === USER && request.scopes.includes('repository:acme/hello:pull,push'),
      ),
      JSON.stringify(tokens.requests.map((request) => request.scopes)),
    );
    const { stdout } = await execa('skopeo', [
      'inspect',
      '--raw',
      '--tls-verify=false',
      '--creds',
      `${USER}:${PASSWORD}`,
      `docker://${proxy.host}/acme/hello:latest`,
    ]);
    assert.equal((JSON.parse(stdout) as { manifests: unknown[] }).manifests.length, 3);
  });

  test('a repository the user may only pull: the denied scope is named, exit 1', async () => {
    const result = await build(['--push', `${proxy.host}/readonly/hello`, '--sbom', 'none']);
    assert.equal(result.exitCode, 1);
    assert.match(lastLine(result.stderr), new RegExp(`^goci: ${proxy.host}: .*repository:readonly/hello:pull,push`));
    for (const token of tokens.issued) assert.ok(!result.stderr.includes(token));
  });

  test('a registry that answers something other than JSON is named with what came back', async () => {
    proxy.addFault({
      method: 'GET',
      path: /\/manifests\//,
      fault: {
        kind: 'status',
        status: 200,
        headers: { 'Content-Type': 'text/html' },
        body: '<html>maintenance</html>',
      },
    });
    const result = await build(['--base', `${proxy.host}/acme/hello:1.2.3`, '--dist', join(made[0]!, 'html-dist')]);
    proxy.clearFaults();
    assert.equal(result.exitCode, 1);
    assert.match(lastLine(result.stderr), /text\/html/);
    assert.match(lastLine(result.stderr), new RegExp(proxy.host));
  });

  test('a manifest whose bytes do not match the digest asked for is refused', async () => {
    const digest = JSON.parse((await build(['--push', `${proxy.host}/acme/hello`, '--json'])).stdout).images[0].index
      .digest as string;
    proxy.addFault({
      method: 'GET',
      path: /\/manifests\/sha256:/,
      times: 10,
      fault: { kind: 'corrupt-response', at: 5 },
    });
    const result = await build([
      '--base',
      `${proxy.host}/acme/hello@${digest}`,
      '--dist',
      join(made[0]!, 'digest-dist'),
    ]);
    proxy.clearFaults();
    assert.equal(result.exitCode, 1);
    assert.match(lastLine(result.stderr), /digest/);
  });
});
