import { createHash, createPrivateKey, createPublicKey, randomBytes, sign, type KeyObject } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';

/**
 * A Docker token server (the protocol of distribution's `auth.token`) for tests: it checks Basic
 * credentials against one user, grants only the actions `access` allows, and signs RS256 JWTs
 * that distribution 2.8 verifies against a self-signed certificate made with `openssl` (its
 * `rootcertbundle`). The JWS header names the key by `kid` in libtrust form, which 2.8 looks up
 * among the bundle's keys. It records every request's scopes and every token it issued.
 */

export interface Grant {
  type: string;
  name: string;
  actions: string[];
}

export interface TokenRequest {
  method: string;
  /** The authenticated user, or undefined for an anonymous request. */
  user: string | undefined;
  /** Every scope asked for, in order (each `scope` parameter split at spaces). */
  scopes: string[];
  grantType: string | undefined;
  granted: Grant[];
  status: number;
}

export interface TokenServerOptions {
  user: string;
  password: string;
  /** The actions `user` (undefined: anonymous) may have on a resource; default: the user pulls and pushes everything, anonymous nothing. */
  access?: (user: string | undefined, type: string, name: string) => string[];
  /** `expires_in` in answers (seconds); null leaves it out. Default 300. Mutable through the server object. */
  expiresIn?: number | null;
  /** An identity (refresh) token accepted as `user` with `grant_type=refresh_token`. */
  identityToken?: string;
  service?: string;
  issuer?: string;
}

export interface TokenServer {
  /** `http://127.0.0.1:PORT`. */
  url: string;
  /** The realm to configure: `<url>/token`. */
  realm: string;
  service: string;
  issuer: string;
  /** PEM certificate of the signing key, for the registry's `rootcertbundle`. */
  rootCertBundle: string;
  /** The libtrust key id in the tokens' JWS header. */
  kid: string;
  requests: TokenRequest[];
  /** Every token issued, to check that none leaks into output. */
  issued: string[];
  expiresIn: number | null;
  stop(): Promise<void>;
}

/**
 * libtrust's key id: SHA-256 of the DER (PKIX) public key, first 240 bits, base32 (no padding:
 * 30 bytes make exactly 48 characters), in groups of four joined by ':'.
 */
export function libtrustKeyId(publicKey: KeyObject): string {
  const der = publicKey.export({ type: 'spki', format: 'der' });
  const bits = createHash('sha256').update(der).digest().subarray(0, 30);
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let text = '';
  let buffer = 0;
  let count = 0;
  for (const byte of bits) {
    buffer = (buffer << 8) | byte;
    count += 8;
    while (count >= 5) {
      text += alphabet[(buffer >> (count - 5)) & 31];
      count -= 5;
    }
    buffer &= (1 << count) - 1;
  }
  return text.match(/.{4}/g)!.join(':');
}

function base64url(data: Buffer | string): string {
  return Buffer.from(data).toString('base64url');
}

function parseScope(scope: string): { type: string; name: string; actions: string[] } | undefined {
  const first = scope.indexOf(':');
  const last = scope.lastIndexOf(':');
  if (first < 0 || last === first) return undefined;
  return {
    type: scope.slice(0, first),
    name: scope.slice(first + 1, last),
    actions: scope
      .slice(last + 1)
      .split(',')
      .filter(Boolean),
  };
}

const defaultAccess = (user: string | undefined): string[] => (user ? ['pull', 'push'] : []);

async function readBody(request: IncomingMessage, limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of request) {
    total += (chunk as Buffer).length;
    if (total > limit) throw new Error('request body too large');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export async function startTokenServer(options: TokenServerOptions): Promise<TokenServer> {
  const dir = await mkdtemp(join(tmpdir(), 'goci-token-'));
  const keyPath = join(dir, 'key.pem');
  const certPath = join(dir, 'cert.pem');
  await execa('openssl', [
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    keyPath,
    '-out',
    certPath,
    '-days',
    '2',
    '-subj',
    '/CN=goci-test-token-issuer',
  ]);
  const privateKey = createPrivateKey(await readFile(keyPath));
  const kid = libtrustKeyId(createPublicKey(privateKey));
  const service = options.service ?? 'goci-test-registry';
  const issuer = options.issuer ?? 'goci-test-issuer';
  const access = options.access ?? defaultAccess;

  const state: TokenServer = {
    url: '',
    realm: '',
    service,
    issuer,
    rootCertBundle: certPath,
    kid,
    requests: [],
    issued: [],
    expiresIn: options.expiresIn === undefined ? 300 : options.expiresIn,
    stop: async () => undefined,
  };

  const issue = (user: string | undefined, granted: Grant[]): string => {
    const now = Math.floor(Date.now() / 1000);
    const header = { typ: 'JWT', alg: 'RS256', kid };
    const claims = {
      iss: issuer,
      sub: user ?? '',
      aud: service,
      exp: now + (state.expiresIn ?? 60),
      nbf: now - 1,
      iat: now,
      jti: randomBytes(12).toString('hex'),
      access: granted,
    };
    const signingInput = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(claims))}`;
    const signature = sign('sha256', Buffer.from(signingInput), privateKey);
    const token = `${signingInput}.${base64url(signature)}`;
    state.issued.push(token);
    return token;
  };

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    const record: TokenRequest = {
      method: request.method ?? 'GET',
      user: undefined,
      scopes: [],
      grantType: undefined,
      granted: [],
      status: 0,
    };
    const reply = (status: number, body: unknown): void => {
      record.status = status;
      state.requests.push(record);
      response.writeHead(status, { 'content-type': 'application/json' });
      response.end(JSON.stringify(body));
    };
    if (url.pathname !== '/token') return reply(404, { errors: [{ code: 'NOT_FOUND', message: 'no such path' }] });
    let params: URLSearchParams;
    if (request.method === 'POST') {
      params = new URLSearchParams(await readBody(request, 64 * 1024));
    } else if (request.method === 'GET') {
      params = url.searchParams;
    } else {
      return reply(405, { errors: [{ code: 'UNSUPPORTED', message: 'GET or POST' }] });
    }
    record.grantType = params.get('grant_type') ?? undefined;
    record.scopes = params
      .getAll('scope')
      .flatMap((scope) => scope.split(' '))
      .filter(Boolean);

    let user: string | undefined;
    const authorization = request.headers.authorization;
    if (record.grantType === 'refresh_token') {
      if (!options.identityToken || params.get('refresh_token') !== options.identityToken)
        return reply(401, { error: 'invalid_grant' });
      user = options.user;
    } else if (record.grantType === 'password') {
      if (params.get('username') !== options.user || params.get('password') !== options.password)
        return reply(401, { error: 'invalid_grant' });
      user = options.user;
    } else if (authorization) {
      const match = /^Basic\s+(\S+)$/i.exec(authorization);
      const decoded = match ? Buffer.from(match[1]!, 'base64').toString('utf8') : '';
      const colon = decoded.indexOf(':');
      if (colon < 0 || decoded.slice(0, colon) !== options.user || decoded.slice(colon + 1) !== options.password) {
        response.setHeader('www-authenticate', 'Basic realm="goci-test-token"');
        return reply(401, { errors: [{ code: 'UNAUTHORIZED', message: 'bad credentials' }] });
      }
      user = options.user;
    }
    record.user = user;

    for (const scope of record.scopes) {
      const parsed = parseScope(scope);
      if (!parsed) continue;
      const allowed = new Set(access(user, parsed.type, parsed.name));
      const actions = parsed.actions.filter((action) => allowed.has(action));
      if (actions.length === 0) continue;
      const existing = record.granted.find((grant) => grant.type === parsed.type && grant.name === parsed.name);
      if (existing) existing.actions = [...new Set([...existing.actions, ...actions])];
      else record.granted.push({ type: parsed.type, name: parsed.name, actions });
    }
    const token = issue(user, record.granted);
    const body: Record<string, unknown> = { token, access_token: token, issued_at: new Date().toISOString() };
    if (state.expiresIn !== null) body.expires_in = state.expiresIn;
    if (user && params.get('offline_token') === 'true' && options.identityToken)
      body.refresh_token = options.identityToken;
    reply(200, body);
  };

  const server: Server = createServer((request, response) => {
    handle(request, response).catch((error: Error) => {
      if (!response.headersSent) response.writeHead(500, { 'content-type': 'text/plain' });
      response.end(`token server error: ${error.message}`);
    });
  });
  server.maxConnections = 64;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  state.url = `http://127.0.0.1:${port}`;
  state.realm = `${state.url}/token`;
  state.stop = async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await rm(dir, { recursive: true, force: true });
  };
  return state;
}
