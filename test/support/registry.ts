import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, openSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { alive, waitForExit } from './process.js';
import { execa } from 'execa';

/**
 * A private registry for one test file: Debian's `docker-registry` (distribution 2.8) on
 * 127.0.0.1 with a free port, storage in a temp dir, optionally behind htpasswd or token auth.
 * Start it in `before`, stop it in `after`.
 */
export const DOCKER_REGISTRY = '/usr/bin/docker-registry';

export type RegistryAuth =
  | { htpasswd: { user: string; password: string } }
  | { token: { realm: string; service: string; issuer: string; rootCertBundle: string } };

export interface RegistryHarness {
  /** `127.0.0.1:PORT`, as a registry name. */
  host: string;
  /** `http://127.0.0.1:PORT`. */
  url: string;
  port: number;
  pid: number;
  /** The directory holding the config, storage, htpasswd file and log. */
  root: string;
  /** Stops the registry by pid (SIGTERM, then SIGKILL) and removes its directory. */
  stop(): Promise<void>;
}

export interface RegistryOptions {
  auth?: RegistryAuth;
  /** Location headers as paths (`http.relativeurls`), as DESIGN.md describes; default true. */
  relativeUrls?: boolean;
}

const START_TIMEOUT_MS = 120_000;
const STOP_TIMEOUT_MS = 5_000;

/** A port that was free a moment ago (the registry binds it right after; a clash is retried). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/**
 * A bcrypt htpasswd line. This machine has no `htpasswd` (apache2-utils) and no bcrypt module
 * for Python or Node; libxcrypt's crypt(3) does bcrypt, and Perl (essential on Debian) calls it.
 */
export async function htpasswdLine(user: string, password: string): Promise<string> {
  const htpasswd = await execa('htpasswd', ['-Bbn', user, password], { reject: false });
  if (htpasswd.exitCode === 0 && /^[^:]+:\$2[aby]\$/.test(htpasswd.stdout)) return htpasswd.stdout.trim();
  const alphabet = './ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  // 22 salt characters; the last one carries only 2 bits, so it comes from a smaller set.
  const salt = [...randomBytes(21)].map((byte) => alphabet[byte % 64]).join('') + '.Oeu'[randomBytes(1)[0]! % 4];
  const { stdout } = await execa('perl', ['-e', 'print crypt($ARGV[0], $ARGV[1])', password, `$2b$05$${salt}`]);
  if (!stdout.startsWith('$2b$05$') || stdout.length !== 60)
    throw new Error(`this machine's crypt(3) does not do bcrypt (got ${JSON.stringify(stdout.slice(0, 7))})`);
  return `${user}:${stdout}`;
}

function configYaml(port: number, root: string, options: RegistryOptions, htpasswdPath: string): string {
  const lines = [
    'version: 0.1',
    'log:',
    '  level: error',
    '  accesslog:',
    '    disabled: true',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${JSON.stringify(join(root, 'data'))}`,
    '  delete:',
    '    enabled: true',
    '  maintenance:',
    '    uploadpurging:',
    '      enabled: false',
    'http:',
    `  addr: 127.0.0.1:${port}`,
    `  secret: ${randomBytes(16).toString('hex')}`,
    `  relativeurls: ${options.relativeUrls ?? true}`,
  ];
  const auth = options.auth;
  if (auth && 'htpasswd' in auth) {
    lines.push('auth:', '  htpasswd:', '    realm: goci-test', `    path: ${JSON.stringify(htpasswdPath)}`);
  } else if (auth && 'token' in auth) {
    const token = auth.token;
    lines.push(
      'auth:',
      '  token:',
      `    realm: ${JSON.stringify(token.realm)}`,
      `    service: ${JSON.stringify(token.service)}`,
      `    issuer: ${JSON.stringify(token.issuer)}`,
      `    rootcertbundle: ${JSON.stringify(token.rootCertBundle)}`,
    );
  }
  return `${lines.join('\n')}\n`;
}

async function answers(url: string): Promise<boolean> {
  try {
    const response = await fetch(`${url}/v2/`, { signal: AbortSignal.timeout(1000) });
    await response.body?.cancel();
    return response.status === 200 || response.status === 401;
  } catch {
    return false;
  }
}

async function startOnce(options: RegistryOptions): Promise<RegistryHarness | 'port-taken'> {
  const root = await mkdtemp(join(tmpdir(), 'goci-registry-'));
  const port = await freePort();
  const htpasswdPath = join(root, 'htpasswd');
  if (options.auth && 'htpasswd' in options.auth) {
    await writeFile(
      htpasswdPath,
      `${await htpasswdLine(options.auth.htpasswd.user, options.auth.htpasswd.password)}\n`,
      { mode: 0o600 },
    );
  }
  const configPath = join(root, 'config.yml');
  await writeFile(configPath, configYaml(port, root, options, htpasswdPath));
  const logPath = join(root, 'registry.log');
  const log = openSync(logPath, 'a');
  let child: ChildProcess;
  try {
    // No REGISTRY_* variables from the test's environment: they would override the config.
    child = spawn(DOCKER_REGISTRY, ['serve', configPath], {
      stdio: ['ignore', log, log],
      env: { PATH: '/usr/bin:/bin' },
    });
  } finally {
    closeSync(log);
  }
  const spawnError = new Promise<Error>((resolve) => child.once('error', resolve));
  const pid = child.pid ?? -1;
  const onExit = (): void => {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  };
  process.once('exit', onExit);
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    process.removeListener('exit', onExit);
    if (pid > 0 && (await alive(pid))) {
      process.kill(pid, 'SIGTERM');
      if (!(await waitForExit(pid, child, STOP_TIMEOUT_MS))) {
        process.kill(pid, 'SIGKILL');
        await waitForExit(pid, child, STOP_TIMEOUT_MS);
      }
    }
    await rm(root, { recursive: true, force: true, maxRetries: 3 });
  };
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + START_TIMEOUT_MS;
  let failure: string;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      failure = `docker-registry exited (${child.exitCode ?? child.signalCode}) before answering /v2/`;
      break;
    }
    const error = await Promise.race([spawnError, sleep(0).then(() => undefined)]);
    if (error) {
      failure = `cannot start ${DOCKER_REGISTRY}: ${error.message} (Debian package docker-registry)`;
      break;
    }
    if (await answers(url)) return { host: `127.0.0.1:${port}`, url, port, pid, root, stop };
    if (Date.now() > deadline) {
      failure = `docker-registry did not answer ${url}/v2/ within ${START_TIMEOUT_MS / 1000} s`;
      break;
    }
    await sleep(50);
  }
  const logText = await readFile(logPath, 'utf8').catch(() => '');
  await stop();
  if (/address already in use/.test(logText)) return 'port-taken';
  throw new Error(`${failure}\n${logText.trimEnd().split('\n').slice(-10).join('\n')}`);
}

/** Starts a registry and resolves once `/v2/` answers (200, or 401 with auth). */
export async function startRegistry(options: RegistryOptions = {}): Promise<RegistryHarness> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const started = await startOnce(options);
    if (started !== 'port-taken') return started;
  }
  throw new Error('docker-registry: no free port after 3 tries');
}
