import { readFile, realpath } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { writeFileAtomic } from '../common/atomic.js';
import { GociError } from '../common/errors.js';
import { DOCKER_HUB_CONFIG_KEY, DOCKER_HUB_HOSTS, DOCKER_HUB_REGISTRY } from './reference.js';

/**
 * Where registry credentials come from, in order: GOCI_REGISTRY_USER/GOCI_REGISTRY_PASSWORD
 * (limited to GOCI_REGISTRY's host when that is set), then Docker's config.json: the host's
 * credHelpers entry, the credsStore, and the plain `auths` entry. `goci login`/`logout` write
 * the same file the way `docker login`/`logout` do.
 */
export interface RegistryCredential {
  username: string;
  /** A password, or an identity (refresh) token when `identityToken` is set. Never printed. */
  secret: string;
  identityToken: boolean;
  /** Where it came from, for messages: `GOCI_REGISTRY_USER`, `docker-credential-pass`, a config path. */
  source: string;
}

export interface CredentialOptions {
  /** Environment for variables, DOCKER_CONFIG, HOME and the helpers' PATH (default process.env). */
  env?: NodeJS.ProcessEnv;
}

/** The user name Docker's helpers return when the secret is an identity token. */
export const IDENTITY_TOKEN_USER = '<token>';
const HELPER_TIMEOUT_MS = 30_000;
const HUB = 'docker.io';

interface DockerConfig {
  auths?: Record<string, Record<string, unknown>>;
  credHelpers?: Record<string, string>;
  credsStore?: string;
  [key: string]: unknown;
}

/** `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`. */
export function dockerConfigPath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.DOCKER_CONFIG) return join(env.DOCKER_CONFIG, 'config.json');
  return join(env.HOME || homedir(), '.docker', 'config.json');
}

/**
 * A registry name or config key reduced to the host it names: scheme and path dropped,
 * lowercased; every Docker Hub spelling (`https://index.docker.io/v1/`, `index.docker.io`,
 * `registry-1.docker.io`, `docker.io`) becomes `docker.io`.
 */
export function credentialHost(text: string): string {
  const host = text
    .trim()
    .replace(/^[a-z][a-z0-9+.-]*:\/\//i, '')
    .replace(/\/.*$/, '')
    .toLowerCase();
  return DOCKER_HUB_HOSTS.includes(host) ? HUB : host;
}

/** The key `docker login` uses for a registry: the Hub's historical URL, else the host. */
export function configKey(registry: string): string {
  const host = credentialHost(registry);
  return host === HUB ? DOCKER_HUB_CONFIG_KEY : host;
}

/** The host to talk to for a registry name given on the command line. */
export function registryHost(text: string): string {
  const host = credentialHost(text);
  return host === HUB ? DOCKER_HUB_REGISTRY : host;
}

async function readConfig(path: string): Promise<DockerConfig | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new GociError('IO_FAILED', `cannot read ${path}: ${(error as Error).message}`);
  }
  if (text.trim() === '') return {};
  try {
    const value = JSON.parse(text) as unknown;
    if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new Error('not a JSON object');
    return value as DockerConfig;
  } catch (error) {
    throw new GociError('BAD_ARGUMENT', `${path} is not valid JSON: ${(error as Error).message}`, {
      hint: "fix or remove the file (it is Docker's client configuration)",
    });
  }
}

function matchingKeys(record: Record<string, unknown> | undefined, host: string): string[] {
  return Object.keys(record ?? {}).filter((key) => credentialHost(key) === host);
}

function fromEnvironment(host: string, env: NodeJS.ProcessEnv): RegistryCredential | undefined {
  const user = env.GOCI_REGISTRY_USER;
  const password = env.GOCI_REGISTRY_PASSWORD;
  if (!user && !password) return undefined;
  if (env.GOCI_REGISTRY && credentialHost(env.GOCI_REGISTRY) !== host) return undefined;
  if (!user || !password) {
    throw new GociError(
      'BAD_ARGUMENT',
      `${user ? 'GOCI_REGISTRY_USER' : 'GOCI_REGISTRY_PASSWORD'} is set but ${user ? 'GOCI_REGISTRY_PASSWORD' : 'GOCI_REGISTRY_USER'} is not`,
      { hint: 'set both, or neither' },
    );
  }
  return {
    username: user,
    secret: password,
    identityToken: false,
    source: 'GOCI_REGISTRY_USER/GOCI_REGISTRY_PASSWORD',
  };
}

/** Runs `docker-credential-<name> get`; undefined when the helper has nothing for this server. */
async function helperGet(
  name: string,
  serverUrl: string,
  env: NodeJS.ProcessEnv,
  configPath: string,
): Promise<RegistryCredential | undefined> {
  const program = `docker-credential-${name}`;
  // Loaded here, when a helper runs: initialising execa's modules costs every other run 9 ms.
  const { execa } = await import('execa');
  const result = await execa(program, ['get'], {
    input: serverUrl,
    env,
    extendEnv: false,
    reject: false,
    timeout: HELPER_TIMEOUT_MS,
    stripFinalNewline: true,
  });
  if (
    (result as { code?: string }).code === 'ENOENT' ||
    (result.failed && result.exitCode === undefined && /ENOENT/.test(String(result.message)))
  ) {
    throw new GociError('NOT_FOUND', `${program} is not on PATH (${configPath} names it)`, {
      hint: `install ${program}, or remove it from ${configPath}`,
    });
  }
  if (result.exitCode !== 0) {
    const said = `${result.stdout}\n${result.stderr}`;
    if (/credentials not found/i.test(said)) return undefined;
    throw new GociError(
      'IO_FAILED',
      `${program} get failed (exit ${result.exitCode ?? result.signal})${firstLine(result.stderr || result.stdout)}`,
    );
  }
  let parsed: { Username?: unknown; Secret?: unknown };
  try {
    parsed = JSON.parse(result.stdout) as typeof parsed;
  } catch {
    throw new GociError('IO_FAILED', `${program} get did not print JSON`);
  }
  if (typeof parsed.Secret !== 'string' || parsed.Secret === '') return undefined;
  const username = typeof parsed.Username === 'string' ? parsed.Username : '';
  return { username, secret: parsed.Secret, identityToken: username === IDENTITY_TOKEN_USER, source: program };
}

async function helperRun(
  name: string,
  action: 'store' | 'erase',
  input: string,
  env: NodeJS.ProcessEnv,
  configPath: string,
): Promise<void> {
  const program = `docker-credential-${name}`;
  const { execa } = await import('execa');
  const result = await execa(program, [action], {
    input,
    env,
    extendEnv: false,
    reject: false,
    timeout: HELPER_TIMEOUT_MS,
  });
  if (
    (result as { code?: string }).code === 'ENOENT' ||
    (result.failed && result.exitCode === undefined && /ENOENT/.test(String(result.message)))
  ) {
    throw new GociError('NOT_FOUND', `${program} is not on PATH (${configPath} names it)`, {
      hint: `install ${program}, or remove it from ${configPath}`,
    });
  }
  if (result.exitCode !== 0) {
    if (action === 'erase' && /credentials not found/i.test(`${result.stdout}\n${result.stderr}`)) return;
    throw new GociError(
      'IO_FAILED',
      `${program} ${action} failed (exit ${result.exitCode ?? result.signal})${firstLine(result.stderr || result.stdout)}`,
    );
  }
}

/** `: <first line>` of a helper's complaint, short; helpers print no secrets there. */
function firstLine(text: string): string {
  const line = text.trim().split('\n')[0]?.trim() ?? '';
  return line === '' ? '' : `: ${line.slice(0, 200)}`;
}

function fromAuthsEntry(entry: Record<string, unknown>, source: string): RegistryCredential | undefined {
  if (typeof entry.identitytoken === 'string' && entry.identitytoken !== '') {
    const username =
      typeof entry.auth === 'string'
        ? (decodeAuth(entry.auth, source)?.username ?? '')
        : typeof entry.username === 'string'
          ? entry.username
          : '';
    return { username: username || IDENTITY_TOKEN_USER, secret: entry.identitytoken, identityToken: true, source };
  }
  if (typeof entry.auth === 'string' && entry.auth !== '') {
    const decoded = decodeAuth(entry.auth, source);
    if (decoded) return { ...decoded, identityToken: false, source };
  }
  if (typeof entry.username === 'string' && typeof entry.password === 'string' && entry.password !== '') {
    return { username: entry.username, secret: entry.password, identityToken: false, source };
  }
  return undefined;
}

function decodeAuth(auth: string, source: string): { username: string; secret: string } | undefined {
  const text = Buffer.from(auth, 'base64').toString('utf8');
  const colon = text.indexOf(':');
  if (colon < 0)
    throw new GociError('BAD_ARGUMENT', `an "auth" entry in ${source} is not base64 of user:password`, {
      hint: 'log in again with goci login or docker login',
    });
  const secret = text.slice(colon + 1);
  return secret === '' ? undefined : { username: text.slice(0, colon), secret };
}

/** The credentials for `registry` (a host, Hub spellings included), or undefined for anonymous access. */
export async function findCredentials(
  registry: string,
  options: CredentialOptions = {},
): Promise<RegistryCredential | undefined> {
  const env = options.env ?? process.env;
  const host = credentialHost(registry);
  const fromEnv = fromEnvironment(host, env);
  if (fromEnv) return fromEnv;
  const path = dockerConfigPath(env);
  const config = await readConfig(path);
  if (!config) return undefined;
  const serverUrl = configKey(registry);
  const helperKey = matchingKeys(config.credHelpers, host)[0];
  const helper = helperKey !== undefined ? config.credHelpers![helperKey] : undefined;
  if (helper) {
    const found = await helperGet(helper, helperKey!, env, path);
    if (found) return found;
  } else if (config.credsStore) {
    const found = await helperGet(config.credsStore, serverUrl, env, path);
    if (found) return found;
  }
  for (const key of matchingKeys(config.auths, host)) {
    const entry = config.auths![key];
    if (entry && typeof entry === 'object') {
      const found = fromAuthsEntry(entry, path);
      if (found) return found;
    }
  }
  return undefined;
}

async function configFile(env: NodeJS.ProcessEnv): Promise<{ path: string; config: DockerConfig }> {
  const path = dockerConfigPath(env);
  // A symlinked config.json (dotfiles) stays a symlink: write where it points.
  const target = await realpath(path).catch(() => path);
  return { path: target, config: (await readConfig(target)) ?? {} };
}

function serialise(config: DockerConfig): string {
  return `${JSON.stringify(config, null, '\t')}\n`;
}

/**
 * Saves credentials as `docker login` does: through the host's credHelper or the credsStore
 * when one is configured (leaving an empty `auths` entry for the credsStore, as Docker does),
 * else base64 `user:secret` in `auths`. Every other key and unknown field stays. Returns where
 * they went (a helper name or the file).
 */
export async function storeCredentials(
  registry: string,
  username: string,
  secret: string,
  options: CredentialOptions = {},
): Promise<string> {
  const env = options.env ?? process.env;
  const host = credentialHost(registry);
  const { path, config } = await configFile(env);
  const existingKey = matchingKeys(config.auths, host)[0];
  const key = existingKey ?? configKey(registry);
  const helperKey = matchingKeys(config.credHelpers, host)[0];
  const helper = helperKey !== undefined ? config.credHelpers![helperKey] : undefined;
  const identity = username === IDENTITY_TOKEN_USER;
  if (helper) {
    await helperRun(
      helper,
      'store',
      JSON.stringify({ ServerURL: helperKey, Username: username, Secret: secret }),
      env,
      path,
    );
    return `docker-credential-${helper}`;
  }
  const auths = { ...(config.auths ?? {}) };
  if (config.credsStore) {
    await helperRun(
      config.credsStore,
      'store',
      JSON.stringify({ ServerURL: configKey(registry), Username: username, Secret: secret }),
      env,
      path,
    );
    const kept = { ...(auths[key] ?? {}) };
    for (const field of ['auth', 'identitytoken', 'password', 'username']) delete kept[field];
    auths[key] = kept;
    await writeFileAtomic(path, serialise({ ...config, auths }), 0o600);
    return `docker-credential-${config.credsStore}`;
  }
  const entry = { ...(auths[key] ?? {}) };
  for (const field of ['identitytoken', 'password', 'username']) delete entry[field];
  if (identity) {
    entry.auth = Buffer.from(`${IDENTITY_TOKEN_USER}:`).toString('base64');
    entry.identitytoken = secret;
  } else {
    entry.auth = Buffer.from(`${username}:${secret}`).toString('base64');
  }
  auths[key] = entry;
  await writeFileAtomic(path, serialise({ ...config, auths }), 0o600);
  return path;
}

/**
 * Forgets credentials as `docker logout` does: every `auths` key naming the host, and the
 * helper's copy when a credHelper or credsStore holds it. True when something was removed.
 */
export async function eraseCredentials(registry: string, options: CredentialOptions = {}): Promise<boolean> {
  const env = options.env ?? process.env;
  const host = credentialHost(registry);
  const { path, config } = await configFile(env);
  let removed = false;
  const helperKey = matchingKeys(config.credHelpers, host)[0];
  const helper = helperKey !== undefined ? config.credHelpers![helperKey] : undefined;
  if (helper) {
    removed = (await helperGet(helper, helperKey!, env, path)) !== undefined || removed;
    await helperRun(helper, 'erase', helperKey!, env, path);
  } else if (config.credsStore) {
    removed = (await helperGet(config.credsStore, configKey(registry), env, path)) !== undefined || removed;
    await helperRun(config.credsStore, 'erase', configKey(registry), env, path);
  }
  const keys = matchingKeys(config.auths, host);
  if (keys.length > 0) {
    const auths = { ...config.auths };
    for (const key of keys) {
      if (auths[key] && Object.keys(auths[key]!).length > 0) removed = true;
      delete auths[key];
    }
    await writeFileAtomic(path, serialise({ ...config, auths }), 0o600);
  }
  return removed;
}
