import type { RegistryCredential } from './credentials.js';
import { type BufferedResponse, preview, redactUrl, registryError, type Transport } from './http.js';
import { registryScheme } from './reference.js';

/**
 * Registry authentication: reading `WWW-Authenticate` challenges, answering Basic ones with
 * the user's credentials, and for Bearer ones fetching tokens from the realm (Docker's token
 * protocol: GET with `service` and each `scope`, Basic credentials when there are any; an
 * identity token goes as an OAuth2 refresh_token POST). Tokens are cached by realm, service
 * and scope set and refreshed before they expire.
 */

export interface Challenge {
  /** Lowercase: `basic`, `bearer`. */
  scheme: string;
  /** Parameter names lowercased; values unquoted. */
  params: Record<string, string>;
}

/** Parses a WWW-Authenticate header: one or more challenges, quoted values with commas and `\"` inside. */
export function parseChallenges(header: string): Challenge[] {
  const challenges: Challenge[] = [];
  let i = 0;
  const skip = (chars: RegExp): void => {
    while (i < header.length && chars.test(header[i]!)) i++;
  };
  const token = (): string => {
    const start = i;
    while (i < header.length && !/[\s,=]/.test(header[i]!)) i++;
    return header.slice(start, i);
  };
  while (i < header.length) {
    skip(/[\s,]/);
    if (i >= header.length) break;
    const name = token();
    if (name === '') {
      i++;
      continue;
    }
    skip(/\s/);
    if (header[i] === '=' && header[i + 1] !== '=' && challenges.length > 0) {
      i++;
      skip(/\s/);
      let value = '';
      if (header[i] === '"') {
        i++;
        while (i < header.length && header[i] !== '"') {
          if (header[i] === '\\' && i + 1 < header.length) i++;
          value += header[i];
          i++;
        }
        i++;
      } else {
        const start = i;
        while (i < header.length && header[i] !== ',') i++;
        value = header.slice(start, i).trim();
      }
      challenges[challenges.length - 1]!.params[name.toLowerCase()] = value;
    } else if (header[i] === '=') {
      // token68 (`Negotiate abc==`): keep it as a parameter-less challenge's data.
      while (i < header.length && header[i] !== ',') i++;
    } else {
      challenges.push({ scheme: name.toLowerCase(), params: {} });
    }
  }
  return challenges;
}

/** `repository:<name>:<actions>` for one repository. */
export function repositoryScope(repository: string, actions: readonly string[]): string {
  return `repository:${repository}:${actions.join(',')}`;
}

/**
 * Scopes merged by resource: the same `type:name` once with the union of its actions, sorted.
 * Each input may hold several space-separated scopes (as a challenge's `scope` does).
 */
export function mergeScopes(scopes: readonly string[]): string[] {
  const byResource = new Map<string, Set<string>>();
  for (const scope of scopes.flatMap((item) => item.split(/\s+/)).filter(Boolean)) {
    const first = scope.indexOf(':');
    const last = scope.lastIndexOf(':');
    if (first < 0 || last === first) {
      byResource.set(scope, byResource.get(scope) ?? new Set());
      continue;
    }
    const resource = scope.slice(0, last);
    const actions = byResource.get(resource) ?? new Set<string>();
    for (const action of scope
      .slice(last + 1)
      .split(',')
      .filter(Boolean))
      actions.add(action);
    byResource.set(resource, actions);
  }
  return [...byResource.entries()]
    .map(([resource, actions]) => (actions.size > 0 ? `${resource}:${[...actions].sort().join(',')}` : resource))
    .sort();
}

export interface AuthenticatorOptions {
  registry: string;
  insecureRegistries: readonly string[];
  transport: Transport;
  /** The user's credentials, looked up when a challenge first asks for them. */
  credential: () => Promise<RegistryCredential | undefined>;
  /** For tests: the clock token lifetimes are measured with. */
  now?: () => number;
}

/** What to send with one request. */
export interface Authorization {
  header: string | undefined;
  /** A token fetched for this very request (a 401 with it means the credentials are wrong). */
  fresh: boolean;
  /** Basic credentials were sent (a 401 means they are wrong). */
  basic: boolean;
  /** Who is asking, for messages: the user name, or undefined for anonymous. */
  user: string | undefined;
}

interface CachedToken {
  token: string;
  expiresAt: number;
  /** When to fetch a new one instead. */
  refreshAt: number;
}

export const DEFAULT_TOKEN_LIFETIME_S = 60;
const MAX_TOKEN_RESPONSE = 1024 * 1024;

export function displayUser(credential: RegistryCredential | undefined): string | undefined {
  if (!credential) return undefined;
  return credential.identityToken && (credential.username === '' || credential.username === '<token>')
    ? 'with an identity token'
    : credential.username;
}

export class Authenticator {
  private challenge: Challenge | undefined;
  private readonly tokens = new Map<string, CachedToken>();
  private readonly pending = new Map<string, Promise<CachedToken>>();
  private readonly now: () => number;

  constructor(private readonly options: AuthenticatorOptions) {
    this.now = options.now ?? Date.now;
  }

  /** The scheme the registry asked for, once a 401 said. */
  get scheme(): string | undefined {
    return this.challenge?.scheme;
  }

  /** Records the challenge of a 401; returns it (undefined when the header has none goci can answer). */
  learn(header: string | null): Challenge | undefined {
    if (!header) return undefined;
    const challenges = parseChallenges(header);
    const chosen =
      challenges.find((item) => item.scheme === 'bearer') ?? challenges.find((item) => item.scheme === 'basic');
    if (chosen) this.challenge = chosen;
    return chosen;
  }

  /** Drops a cached token so the next request fetches a new one. */
  forget(scopes: readonly string[]): void {
    if (this.challenge?.scheme === 'bearer') this.tokens.delete(this.cacheKey(this.challenge, mergeScopes(scopes)));
  }

  /** Who the requests run as, for messages. */
  async user(): Promise<string | undefined> {
    return displayUser(await this.options.credential());
  }

  /**
   * The Authorization header for a request that needs `scopes`. Before any challenge it is
   * none (anonymous first, as Docker does); `force` skips the token cache.
   */
  async authorize(scopes: readonly string[], force = false): Promise<Authorization> {
    const challenge = this.challenge;
    if (!challenge) return { header: undefined, fresh: false, basic: false, user: undefined };
    const credential = await this.options.credential();
    const user = displayUser(credential);
    if (challenge.scheme === 'basic') {
      if (!credential) throw this.authRequired(scopes);
      if (credential.identityToken) {
        throw registryError(
          'auth',
          `${this.options.registry}: the registry wants a password (Basic auth) but the stored credential is an identity token`,
          { hint: `log in again with goci login ${this.options.registry}` },
        );
      }
      return {
        header: `Basic ${Buffer.from(`${credential.username}:${credential.secret}`).toString('base64')}`,
        fresh: false,
        basic: true,
        user,
      };
    }
    const merged = mergeScopes(scopes);
    const key = this.cacheKey(challenge, merged);
    const cached = this.tokens.get(key);
    if (!force && cached && this.now() < cached.refreshAt)
      return { header: `Bearer ${cached.token}`, fresh: false, basic: false, user };
    let request = this.pending.get(key);
    if (!request) {
      request = this.fetchToken(challenge, merged, credential).finally(() => this.pending.delete(key));
      this.pending.set(key, request);
    }
    const token = await request;
    this.tokens.set(key, token);
    return { header: `Bearer ${token.token}`, fresh: true, basic: false, user };
  }

  /** The error for a 401 that credentials cannot fix (none given, or the ones given were refused). */
  async rejected(scopes: readonly string[], status = 401): Promise<Error> {
    const credential = await this.options.credential();
    if (!credential) return this.authRequired(scopes);
    return registryError(
      'auth',
      `${this.options.registry}: authentication failed for user ${displayUser(credential)} (${status})`,
      {
        hint: `check the user name and password or token (from ${credential.source}); goci login ${this.options.registry} stores new ones`,
      },
    );
  }

  /** The error for a 403 or an insufficient_scope challenge. */
  async denied(scope: string, why: string): Promise<Error> {
    const user = displayUser(await this.options.credential());
    return registryError(
      'denied',
      `${this.options.registry}: access to ${scope} denied ${user ? `for user ${user}` : 'without credentials'} (${why})`,
      {
        hint: user
          ? "ask the registry's administrator for that permission, or check the repository name"
          : `log in with goci login ${this.options.registry}, or set GOCI_REGISTRY_USER and GOCI_REGISTRY_PASSWORD`,
      },
    );
  }

  private authRequired(scopes: readonly string[]): Error {
    const what = scopes.length > 0 ? ` for ${mergeScopes(scopes).join(' ')}` : '';
    return registryError('auth', `${this.options.registry}: authentication required${what} (401)`, {
      hint: `log in with goci login ${this.options.registry}, or set GOCI_REGISTRY_USER and GOCI_REGISTRY_PASSWORD`,
    });
  }

  private cacheKey(challenge: Challenge, scopes: readonly string[]): string {
    return JSON.stringify([challenge.params.realm ?? '', challenge.params.service ?? '', [...scopes].sort()]);
  }

  /** Credentials never cross a network in clear text: a plain-HTTP realm only on loopback or an --insecure-registry host. */
  private checkClearText(credential: RegistryCredential | undefined, url: URL): void {
    if (
      !credential ||
      url.protocol === 'https:' ||
      registryScheme(url.host, this.options.insecureRegistries) === 'http'
    )
      return;
    throw registryError(
      'auth',
      `${this.options.registry}: the token realm ${url.origin} is plain HTTP; goci will not send credentials there`,
      {
        hint: `pass --insecure-registry ${url.host} if that is intended`,
      },
    );
  }

  private async fetchToken(
    challenge: Challenge,
    scopes: readonly string[],
    credential: RegistryCredential | undefined,
  ): Promise<CachedToken> {
    const registry = this.options.registry;
    const realmText = challenge.params.realm;
    let realm: URL;
    try {
      realm = new URL(realmText ?? '');
      if (realm.protocol !== 'http:' && realm.protocol !== 'https:') throw new Error('not http(s)');
    } catch {
      throw registryError(
        'protocol',
        `${registry}: the registry's Bearer challenge has no usable realm${realmText ? ` (${realmText})` : ''}`,
      );
    }
    this.checkClearText(credential, realm);
    const service = challenge.params.service;
    const started = this.now();
    let response: BufferedResponse;
    if (credential?.identityToken) {
      const form = new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: credential.secret,
        client_id: 'goci',
      });
      if (service) form.set('service', service);
      if (scopes.length > 0) form.set('scope', scopes.join(' '));
      // The body holds the identity token: a redirect must not carry it anywhere else.
      const headers = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' };
      response = await this.options.transport.buffered(
        { method: 'POST', url: realm, headers, body: form.toString(), followRedirects: false },
        MAX_TOKEN_RESPONSE,
      );
    } else {
      const url = new URL(realm);
      if (service) url.searchParams.set('service', service);
      for (const scope of scopes) url.searchParams.append('scope', scope);
      if (credential) url.searchParams.set('account', credential.username);
      const pair = credential ? `${credential.username}:${credential.secret}` : undefined;
      const basic = pair === undefined ? undefined : `Basic ${Buffer.from(pair).toString('base64')}`;
      // The user's password goes to the realm's own origin only (the transport checks every hop).
      const request = { method: 'GET', url, headers: { accept: 'application/json' } };
      response = await this.options.transport.buffered(
        basic ? { ...request, credential: { header: basic, origin: realm.origin } } : request,
        MAX_TOKEN_RESPONSE,
      );
    }
    if (response.status === 401 || response.status === 403) {
      if (credential) throw await this.rejected(scopes, response.status);
      throw this.authRequired(scopes);
    }
    if (response.status !== 200) {
      throw registryError(
        'protocol',
        `${registry}: the token service ${redactUrl(realm)} answered ${response.status}${response.bytes.length > 0 ? `: ${preview(response.bytes)}` : ''}`,
      );
    }
    let body: { token?: unknown; access_token?: unknown; expires_in?: unknown };
    try {
      body = JSON.parse(response.bytes.toString('utf8')) as typeof body;
    } catch {
      throw registryError(
        'protocol',
        `${registry}: the token service ${redactUrl(realm)} did not answer JSON (${response.headers.get('content-type') ?? 'no content type'}, ${response.bytes.length} bytes)`,
      );
    }
    const token =
      typeof body.token === 'string' && body.token !== ''
        ? body.token
        : typeof body.access_token === 'string'
          ? body.access_token
          : '';
    if (token === '')
      throw registryError('protocol', `${registry}: the token service ${redactUrl(realm)} answered without a token`);
    const lifetime =
      typeof body.expires_in === 'number' && body.expires_in > 0 ? body.expires_in : DEFAULT_TOKEN_LIFETIME_S;
    const expiresAt = started + lifetime * 1000;
    // Refresh a little early: a token that expires in flight costs a 401 and a retry.
    const margin = Math.min(10_000, (lifetime * 1000) / 4);
    return { token, expiresAt, refreshAt: expiresAt - margin };
  }
}
