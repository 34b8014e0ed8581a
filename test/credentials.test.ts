import assert from 'node:assert/strict';
import { chmod, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { execa } from 'execa';
import { GociError } from '../common/errors.js';
import {
  configKey,
  credentialHost,
  dockerConfigPath,
  eraseCredentials,
  findCredentials,
  storeCredentials,
} from '../registry/credentials.js';
import { startRegistry, type RegistryHarness } from './support/registry.js';
import { startTokenServer, type TokenServer } from './support/token-server.js';
import { listFiles, removeDirectory, temporaryDirectory } from './support/workspace.js';

const PASSWORD = 'Tr0ub4dor-and-3';
const HUB = 'https://index.docker.io/v1/';

let work: string;
let helperDir: string;
let caseCount = 0;

/**
 * A credential helper speaking Docker's protocol (get/store/erase on stdin), storing in a JSON
 * file beside it and logging each call's action and server URL (never the secret).
 */
const HELPER = `#!${process.execPath}
const fs = require('node:fs');
const path = require('node:path');
const store = path.join(__dirname, 'store.json');
const log = path.join(__dirname, 'calls.log');
const action = process.argv[2];
const input = fs.readFileSync(0, 'utf8');
const data = fs.existsSync(store) ? JSON.parse(fs.readFileSync(store, 'utf8')) : {};
const save = () => fs.writeFileSync(store, JSON.stringify(data));
if (action === 'get') {
  fs.appendFileSync(log, 'get ' + input.trim() + '\\n');
  const entry = data[input.trim()];
  if (!entry) { process.stdout.write('credentials not found in native keychain\\n'); process.exit(1); }
  process.stdout.write(JSON.stringify({ ServerURL: input.trim(), Username: entry.Username, Secret: entry.Secret }));
} else if (action === 'store') {
  const entry = JSON.parse(input);
  fs.appendFileSync(log, 'store ' + entry.ServerURL + ' ' + entry.Username + '\\n');
  data[entry.ServerURL] = { Username: entry.Username, Secret: entry.Secret };
  save();
} else if (action === 'erase') {
  fs.appendFileSync(log, 'erase ' + input.trim() + '\\n');
  if (!data[input.trim()]) { process.stdout.write('credentials not found in native keychain\\n'); process.exit(1); }
  delete data[input.trim()];
  save();
} else {
  process.exit(2);
}
`;

/** A fresh HOME and DOCKER_CONFIG, with the helper directory first on PATH. */
async function environment(config?: unknown): Promise<{ env: NodeJS.ProcessEnv; configDir: string; home: string }> {
  const home = join(work, `case-${caseCount++}`);
  const configDir = join(home, 'docker-config');
  await mkdir(configDir, { recursive: true });
  if (config !== undefined) await writeFile(join(configDir, 'config.json'), JSON.stringify(config));
  return {
    home,
    configDir,
    env: { HOME: home, DOCKER_CONFIG: configDir, PATH: `${helperDir}:${process.env.PATH ?? '/usr/bin:/bin'}` },
  };
}

async function helperStore(entries: Record<string, { Username: string; Secret: string }>): Promise<void> {
  await writeFile(join(helperDir, 'store.json'), JSON.stringify(entries));
  await writeFile(join(helperDir, 'calls.log'), '');
}

async function helperCalls(): Promise<string[]> {
  return (await readFile(join(helperDir, 'calls.log'), 'utf8')).trim().split('\n').filter(Boolean);
}

const basic = (user: string, password: string): string => Buffer.from(`${user}:${password}`).toString('base64');

before(async () => {
  work = await temporaryDirectory('credentials');
  helperDir = join(work, 'bin');
  await mkdir(helperDir);
  await writeFile(join(helperDir, 'docker-credential-goci-test'), HELPER);
  await chmod(join(helperDir, 'docker-credential-goci-test'), 0o755);
});

after(async () => {
  await removeDirectory(work);
});

describe('finding credentials', () => {
  test('GOCI_REGISTRY_USER/GOCI_REGISTRY_PASSWORD come first; GOCI_REGISTRY limits them to one host', async () => {
    const { env } = await environment({ auths: { 'reg.example:5000': { auth: basic('fromfile', 'filepass') } } });
    const vars = { ...env, GOCI_REGISTRY_USER: 'ci', GOCI_REGISTRY_PASSWORD: 'cipass' };
    assert.deepEqual(await findCredentials('reg.example:5000', { env: vars }), {
      username: 'ci',
      secret: 'cipass',
      identityToken: false,
      source: 'GOCI_REGISTRY_USER/GOCI_REGISTRY_PASSWORD',
    });
    const limited = { ...vars, GOCI_REGISTRY: 'other.example' };
    assert.equal((await findCredentials('reg.example:5000', { env: limited }))?.username, 'fromfile');
    assert.equal((await findCredentials('other.example', { env: limited }))?.username, 'ci');
    await assert.rejects(findCredentials('x.example', { env: { ...env, GOCI_REGISTRY_USER: 'ci' } }), {
      code: 'BAD_ARGUMENT',
      message: 'GOCI_REGISTRY_USER is set but GOCI_REGISTRY_PASSWORD is not',
    });
  });

  test('config.json auths: base64 user:password, identitytoken, keys written as URLs; DOCKER_CONFIG before ~/.docker', async () => {
    const { env, home } = await environment({
      auths: {
        'http://reg.example:5000/v2/': { auth: basic('bob', 'pa:ss') },
        'tok.example': { auth: basic('<token>', ''), identitytoken: 'idtok-1' },
      },
    });
    assert.equal(dockerConfigPath(env), join(home, 'docker-config', 'config.json'));
    assert.equal(dockerConfigPath({ HOME: home }), join(home, '.docker', 'config.json'));
    assert.deepEqual(await findCredentials('reg.example:5000', { env }), {
      username: 'bob',
      secret: 'pa:ss',
      identityToken: false,
      source: dockerConfigPath(env),
    });
    assert.deepEqual(await findCredentials('tok.example', { env }), {
      username: '<token>',
      secret: 'idtok-1',
      identityToken: true,
      source: dockerConfigPath(env),
    });
    assert.equal(await findCredentials('unknown.example', { env }), undefined);
    assert.equal(await findCredentials('reg.example:5000', { env: { HOME: home } }), undefined);
  });

  test("Docker Hub's keys all name the Hub", async () => {
    for (const key of [HUB, 'index.docker.io', 'docker.io', 'registry-1.docker.io']) {
      const { env } = await environment({ auths: { [key]: { auth: basic('hubuser', 'hubpass') } } });
      for (const registry of ['registry-1.docker.io', 'docker.io', 'index.docker.io']) {
        assert.equal((await findCredentials(registry, { env }))?.secret, 'hubpass', `${key} for ${registry}`);
      }
    }
    assert.equal(credentialHost(HUB), 'docker.io');
    assert.equal(configKey('registry-1.docker.io'), HUB);
    assert.equal(configKey('127.0.0.1:5000'), '127.0.0.1:5000');
  });

  test('credHelpers[host] runs docker-credential-<name> get with the server URL on stdin; <token> means an identity token', async () => {
    await helperStore({
      'helper.example': { Username: 'carol', Secret: 'helper-secret' },
      'idt.example': { Username: '<token>', Secret: 'identity-xyz' },
    });
    const { env } = await environment({
      credHelpers: { 'helper.example': 'goci-test', 'idt.example': 'goci-test', 'none.example': 'goci-test' },
      auths: { 'none.example': { auth: basic('dave', 'fallback') } },
    });
    assert.deepEqual(await findCredentials('helper.example', { env }), {
      username: 'carol',
      secret: 'helper-secret',
      identityToken: false,
      source: 'docker-credential-goci-test',
    });
    assert.deepEqual(await findCredentials('idt.example', { env }), {
      username: '<token>',
      secret: 'identity-xyz',
      identityToken: true,
      source: 'docker-credential-goci-test',
    });
    // Not in the helper: the plain auths entry is next.
    assert.equal((await findCredentials('none.example', { env }))?.username, 'dave');
    assert.deepEqual(await helperCalls(), ['get helper.example', 'get idt.example', 'get none.example']);
  });

  test('credsStore answers for every host, the Hub under its URL key', async () => {
    await helperStore({ [HUB]: { Username: 'hubber', Secret: 'store-secret' } });
    const { env } = await environment({ credsStore: 'goci-test', auths: { [HUB]: {} } });
    assert.equal((await findCredentials('docker.io', { env }))?.secret, 'store-secret');
    assert.equal(await findCredentials('elsewhere.example', { env }), undefined);
    assert.deepEqual(await helperCalls(), [`get ${HUB}`, 'get elsewhere.example']);
  });

  test('a helper that is not on PATH is named', async () => {
    const { env } = await environment({ credsStore: 'goci-missing' });
    const error = await findCredentials('x.example', { env }).catch((caught: unknown) => caught);
    assert.ok(error instanceof GociError);
    assert.equal(error.code, 'NOT_FOUND');
    assert.equal(error.message, `docker-credential-goci-missing is not on PATH (${dockerConfigPath(env)} names it)`);
  });
});

describe('storing and erasing credentials as docker login/logout do', () => {
  test('into auths: base64 user:password, other keys and unknown fields kept, mode 0600, atomic', async () => {
    const original = {
      auths: { 'other.example': { auth: basic('o', 'p'), email: 'o@example.com' } },
      psFormat: 'table {{.ID}}',
      HttpHeaders: { 'User-Agent': 'x' },
    };
    const { env, configDir } = await environment(original);
    const path = join(configDir, 'config.json');
    assert.equal(await storeCredentials('reg.example:5000', 'erin', 'erin-pass', { env }), path);
    const stored = JSON.parse(await readFile(path, 'utf8')) as Record<string, any>;
    assert.deepEqual(stored, {
      ...original,
      auths: { ...original.auths, 'reg.example:5000': { auth: basic('erin', 'erin-pass') } },
    });
    assert.equal((await stat(path)).mode & 0o777, 0o600);
    assert.deepEqual(await listFiles(configDir), ['config.json']);
    assert.equal((await findCredentials('reg.example:5000', { env }))?.secret, 'erin-pass');
    await storeCredentials('docker.io', 'hubby', 'hub-pass', { env });
    assert.deepEqual(JSON.parse(await readFile(path, 'utf8')).auths[HUB], { auth: basic('hubby', 'hub-pass') });

    assert.equal(await eraseCredentials('reg.example:5000', { env }), true);
    assert.equal(await eraseCredentials('reg.example:5000', { env }), false);
    const erased = JSON.parse(await readFile(path, 'utf8')) as Record<string, any>;
    assert.deepEqual(Object.keys(erased.auths).sort(), ['https://index.docker.io/v1/', 'other.example']);
    assert.equal(erased.psFormat, 'table {{.ID}}');
  });

  test('through the credsStore: helper store/erase, an empty auths entry in the file as Docker leaves', async () => {
    await helperStore({});
    const { env, configDir } = await environment({
      credsStore: 'goci-test',
      auths: { 'reg.example:5000': { auth: basic('old', 'stale') } },
    });
    assert.equal(
      await storeCredentials('reg.example:5000', 'frank', 'frank-pass', { env }),
      'docker-credential-goci-test',
    );
    assert.deepEqual(JSON.parse(await readFile(join(configDir, 'config.json'), 'utf8')), {
      credsStore: 'goci-test',
      auths: { 'reg.example:5000': {} },
    });
    assert.deepEqual(JSON.parse(await readFile(join(helperDir, 'store.json'), 'utf8')), {
      'reg.example:5000': { Username: 'frank', Secret: 'frank-pass' },
    });
    assert.equal(await eraseCredentials('reg.example:5000', { env }), true);
    assert.deepEqual(JSON.parse(await readFile(join(helperDir, 'store.json'), 'utf8')), {});
    assert.deepEqual(JSON.parse(await readFile(join(configDir, 'config.json'), 'utf8')), {
      credsStore: 'goci-test',
      auths: {},
    });
    assert.deepEqual(await helperCalls(), [
      'store reg.example:5000 frank',
      'get reg.example:5000',
      'erase reg.example:5000',
    ]);
  });
});

const COMMANDS = fileURLToPath(new URL('../cli/commands/', import.meta.url));

/** Runs `goci login|logout ARGS` the way cli/main.ts will: a fresh process, real stdin, errors through reportError. */
async function gociCommand(
  which: 'login' | 'logout',
  args: string[],
  options: { env: NodeJS.ProcessEnv; input?: string },
): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  const script = `
    import { loginCommand } from ${JSON.stringify(pathToFileURL(join(COMMANDS, 'login.js')).href)};
    import { logoutCommand } from ${JSON.stringify(pathToFileURL(join(COMMANDS, 'logout.js')).href)};
    import { reportError } from ${JSON.stringify(pathToFileURL(join(COMMANDS, '..', 'report-error.js')).href)};
    const [which, ...args] = process.argv.slice(1);
    const command = (which === 'login' ? loginCommand() : logoutCommand()).exitOverride();
    try { await command.parseAsync(args, { from: 'user' }); }
    catch (error) { process.exitCode = String(error?.code ?? '').startsWith('commander.') ? 2 : reportError(error, false); }
  `;
  const result = await execa(process.execPath, ['--input-type=module', '-e', script, which, ...args], {
    env: options.env,
    extendEnv: false,
    reject: false,
    input: options.input ?? '',
    timeout: 30_000,
  });
  return { exitCode: result.exitCode ?? -1, stdout: result.stdout, stderr: result.stderr };
}

/** Every byte written under `dir`, to grep for secrets. */
async function everythingUnder(dir: string): Promise<string> {
  const files = await listFiles(dir);
  return (await Promise.all(files.map((file) => readFile(join(dir, file), 'utf8')))).join('\n');
}

describe('goci login / goci logout', () => {
  let registry: RegistryHarness;
  let tokens: TokenServer;
  let tokenRegistry: RegistryHarness;

  before(async () => {
    registry = await startRegistry({ auth: { htpasswd: { user: 'alice', password: PASSWORD } } });
    tokens = await startTokenServer({ user: 'alice', password: PASSWORD });
    tokenRegistry = await startRegistry({
      auth: {
        token: {
          realm: tokens.realm,
          service: tokens.service,
          issuer: tokens.issuer,
          rootCertBundle: tokens.rootCertBundle,
        },
      },
    });
  });

  after(async () => {
    await tokenRegistry?.stop();
    await tokens?.stop();
    await registry?.stop();
  });

  test('a wrong password (with -v): refused before anything is stored; no output line and no file holds it', async () => {
    const { env, home } = await environment();
    const wrong = 'wrong-Pa55word-zz';
    const result = await gociCommand('login', [registry.host, '-u', 'alice', '--password-stdin', '-v'], {
      env,
      input: `${wrong}\n`,
    });
    assert.equal(result.exitCode, 1);
    assert.equal(result.stdout, '');
    const errorLines = result.stderr.trim().split('\n');
    assert.equal(
      errorLines.at(-1),
      `goci: ${registry.host}: authentication failed for user alice (401) (check the user name and password or token (from goci login); goci login ${registry.host} stores new ones)`,
    );
    assert.deepEqual(errorLines.slice(0, -1), [
      `goci: GET http://${registry.host}/v2/ 401`,
      `goci: GET http://${registry.host}/v2/ 401`,
    ]);
    assert.deepEqual(await listFiles(home), []);
    const written = `${result.stdout}\n${result.stderr}\n${await everythingUnder(home)}`;
    for (const secret of [wrong, Buffer.from(`alice:${wrong}`).toString('base64')])
      assert.ok(!written.includes(secret));
  });

  test('the right password: checked with the registry, then saved as docker login would; logout erases it', async () => {
    const { env, configDir } = await environment({ auths: { 'keep.example': { auth: basic('k', 'v') } } });
    const path = join(configDir, 'config.json');
    const login = await gociCommand('login', [registry.host, '-u', 'alice', '--password-stdin'], {
      env,
      input: `${PASSWORD}\n`,
    });
    assert.equal(login.stderr, '');
    assert.equal(login.stdout, `Login Succeeded: alice at ${registry.host}, saved to ${path}`);
    assert.equal(login.exitCode, 0);
    assert.deepEqual(JSON.parse(await readFile(path, 'utf8')).auths, {
      'keep.example': { auth: basic('k', 'v') },
      [registry.host]: { auth: basic('alice', PASSWORD) },
    });
    assert.equal((await stat(path)).mode & 0o777, 0o600);

    const logout = await gociCommand('logout', [registry.host], { env });
    assert.equal(logout.stdout, `Removed the credentials for ${registry.host}`);
    assert.deepEqual(JSON.parse(await readFile(path, 'utf8')).auths, { 'keep.example': { auth: basic('k', 'v') } });
    assert.equal((await gociCommand('logout', [registry.host], { env })).stdout, `Not logged in to ${registry.host}`);
  });

  test('with token auth the check is a token request with the credentials; nothing leaks in verbose output', async () => {
    const { env, configDir } = await environment();
    tokens.requests.length = 0;
    const login = await gociCommand(
      'login',
      [`http://${tokenRegistry.host}/`, '--username', 'alice', '--password-stdin', '--verbose'],
      { env, input: PASSWORD },
    );
    assert.equal(login.exitCode, 0, login.stderr);
    assert.deepEqual(
      tokens.requests.map((request) => [request.user, request.scopes, request.status]),
      [['alice', [], 200]],
    );
    assert.deepEqual(login.stderr.trim().split('\n'), [
      `goci: GET http://${tokenRegistry.host}/v2/ 401`,
      `goci: GET ${tokens.url}/token?service=…&account=… 200`,
      `goci: GET http://${tokenRegistry.host}/v2/ 200`,
    ]);
    const written = `${login.stdout}\n${login.stderr}`;
    for (const secret of [PASSWORD, ...tokens.issued]) assert.ok(!written.includes(secret));
    assert.equal((await findCredentials(tokenRegistry.host, { env }))?.secret, PASSWORD);
    assert.deepEqual(await listFiles(configDir), ['config.json']);

    const wrong = await gociCommand('login', [tokenRegistry.host, '-u', 'alice', '--password-stdin'], {
      env,
      input: 'nope-nope',
    });
    assert.equal(wrong.exitCode, 1);
    assert.match(
      wrong.stderr,
      new RegExp(`goci: ${tokenRegistry.host}: authentication failed for user alice \\(401\\)`),
    );
    assert.equal(tokens.requests.at(-1)!.status, 401);
    const everything = `${wrong.stdout}\n${wrong.stderr}\n${await everythingUnder(configDir)}`;
    assert.ok(!everything.includes('nope-nope'));
    assert.equal(
      (await findCredentials(tokenRegistry.host, { env }))?.secret,
      PASSWORD,
      'the earlier, good login is kept',
    );
  });

  test('a password is never taken from a flag; without stdin or a terminal there is no prompt', async () => {
    const { env, home } = await environment();
    const flag = await gociCommand('login', [registry.host, '-u', 'alice', '-p', PASSWORD], { env });
    assert.equal(flag.exitCode, 2);
    assert.equal(
      flag.stderr.trim(),
      'goci: goci login takes no password on the command line (it would stay in shell history and process lists) (pipe it in with --password-stdin, or leave it out to be asked)',
    );
    const noInput = await gociCommand('login', [registry.host, '-u', 'alice'], { env });
    assert.equal(
      noInput.stderr.trim(),
      'goci: goci login needs the password on stdin (--password-stdin) or a terminal to ask on',
    );
    assert.deepEqual(await listFiles(home), []);
  });
});
