import {
  Agent,
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  type ServerResponse,
} from 'node:http';
import { listenOnLoopback } from './loopback.js';

/**
 * A loopback HTTP proxy in front of a registry. The client talks to the proxy's port as if it
 * were the registry (Host is passed through, so absolute Locations name the proxy; any that
 * name the registry, and token realms on the registry's origin, are rewritten). It counts
 * request and response body bytes per method and path pattern, and injects faults by rule:
 * a status instead of forwarding (500, 429 with Retry-After), a connection dropped after K
 * bytes of a request body, a corrupted byte in a response body.
 */

export type Fault =
  /** Answer this instead of forwarding (the request body is read first). */
  | { kind: 'status'; status: number; headers?: Record<string, string>; body?: string }
  /**
   * Close the client's connection once `afterBytes` of the request body arrived. With
   * `forwardPartial` those bytes reach the registry first (a cut in the middle of the path);
   * without, the registry never sees the request (a buffering front end that lost its client).
   */
  | { kind: 'drop-request'; afterBytes: number; forwardPartial?: boolean }
  /** Flip the bits of the response body's byte at `at` (default 0). */
  | { kind: 'corrupt-response'; at?: number }
  /** Close the client's connection after `afterBytes` of the response body. */
  | { kind: 'drop-response'; afterBytes: number }
  /** Answer nothing until the client gives up (or `ms`, default 10 s, then 504). */
  | { kind: 'stall'; ms?: number }
  /**
   * Forward, then point the answer's Location at another origin (`to`, e.g. a recorder):
   * an upload session whose PATCH and PUT go to another host, as with blob storage.
   */
  | { kind: 'relocate'; to: string }
  /** Answer a redirect (default 307) to the same path and query on another origin, without forwarding. */
  | { kind: 'redirect'; to: string; status?: number }
  /** Forward only once `until` settles: the request reaches the registry after something else happened. */
  | { kind: 'hold'; until: Promise<unknown> };

export interface FaultRule {
  method?: string;
  /** Matched against the path (no query). */
  path?: RegExp;
  /** Let this many matching requests through before the fault applies (default 0). */
  skip?: number;
  /** How many matching requests get the fault (default 1). */
  times?: number;
  fault: Fault;
}

export interface ProxyRecord {
  method: string;
  path: string;
  /** Path and query as the client sent them. */
  url: string;
  /** The method and the path with names, digests and ids as `*` (`PATCH /v2/NAME/blobs/uploads/ID` becomes that with `*`s). */
  pattern: string;
  contentRange: string | undefined;
  /** The final status sent, or 0 when the connection was dropped. */
  status: number;
  /** Request body bytes received from the client. */
  requestBytes: number;
  /** Request body bytes passed on to the registry. */
  forwardedBytes: number;
  /** Response body bytes sent to the client. */
  responseBytes: number;
  fault: Fault['kind'] | undefined;
  startedAt: number;
}

export interface RegistryProxy {
  /** `http://127.0.0.1:PORT`. */
  url: string;
  /** `127.0.0.1:PORT`, to use as the registry name. */
  host: string;
  records: ProxyRecord[];
  /** The most requests that were in flight at once. */
  readonly maxInFlight: number;
  addFault(rule: FaultRule): void;
  clearFaults(): void;
  /** Forgets records and the in-flight maximum. */
  reset(): void;
  /** Requests whose pattern is exactly `METHOD pattern`, as pathPattern writes it. */
  count(method: string, pattern: string): number;
  /** The first request (already seen, or still to come) that `matches`. */
  seen(matches: (record: ProxyRecord) => boolean): Promise<ProxyRecord>;
  bytes(method: string, pattern: string): { request: number; forwarded: number; response: number };
  stop(): Promise<void>;
}

/** The path with repository names, digests and upload ids replaced by `*`. */
export function pathPattern(path: string): string {
  // The repository name is greedy: a repository may itself be called `x/referrers` or `x/blobs`.
  const match =
    /^\/v2\/(.+)\/(blobs\/uploads\/([^/]*)|blobs\/[^/]+|manifests\/[^/]+|tags\/list|referrers\/[^/]+)$/.exec(path);
  if (!match) return path;
  const tail = match[2]!;
  if (tail.startsWith('blobs/uploads/')) return match[3] ? '/v2/*/blobs/uploads/*' : '/v2/*/blobs/uploads/';
  if (tail === 'tags/list') return '/v2/*/tags/list';
  return `/v2/*/${tail.slice(0, tail.indexOf('/'))}/*`;
}

const MAX_RECORDS = 10_000;

export async function startProxy(upstream: string): Promise<RegistryProxy> {
  const target = new URL(upstream);
  if (!['127.0.0.1', 'localhost', '[::1]'].includes(target.hostname))
    throw new Error(`the proxy only fronts loopback registries, not ${target.hostname}`);
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const rules: { rule: FaultRule; seen: number; applied: number }[] = [];
  const records: ProxyRecord[] = [];
  const waiters: { matches: (record: ProxyRecord) => boolean; resolve: (record: ProxyRecord) => void }[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  let origin = '';

  const pickFault = (method: string, path: string): Fault | undefined => {
    for (const entry of rules) {
      const { rule } = entry;
      if (rule.method && rule.method !== method) continue;
      if (rule.path && !rule.path.test(path)) continue;
      entry.seen++;
      if (entry.seen <= (rule.skip ?? 0)) continue;
      if (entry.applied >= (rule.times ?? 1)) continue;
      entry.applied++;
      return rule.fault;
    }
    return undefined;
  };

  const rewrite = (value: string): string => value.split(target.origin).join(origin);

  const handle = (request: IncomingMessage, response: ServerResponse): void => {
    const method = request.method ?? 'GET';
    const path = new URL(request.url ?? '/', 'http://proxy').pathname;
    const fault = pickFault(method, path);
    const record: ProxyRecord = {
      method,
      path,
      url: request.url ?? '/',
      pattern: `${method} ${pathPattern(path)}`,
      contentRange: typeof request.headers['content-range'] === 'string' ? request.headers['content-range'] : undefined,
      status: 0,
      requestBytes: 0,
      forwardedBytes: 0,
      responseBytes: 0,
      fault: fault?.kind,
      startedAt: Date.now(),
    };
    if (records.length < MAX_RECORDS) records.push(record);
    for (const waiter of waiters.filter((candidate) => candidate.matches(record))) {
      waiters.splice(waiters.indexOf(waiter), 1);
      waiter.resolve(record);
    }
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    let done = false;
    const finish = (): void => {
      if (!done) {
        done = true;
        inFlight--;
      }
    };
    response.once('close', finish);

    if (fault?.kind === 'status') {
      request.on('data', (chunk: Buffer) => {
        record.requestBytes += chunk.length;
      });
      request.once('end', () => {
        const body =
          fault.body ?? JSON.stringify({ errors: [{ code: 'UNKNOWN', message: `injected ${fault.status}` }] });
        record.status = fault.status;
        record.responseBytes = Buffer.byteLength(body);
        // The fault's headers replace the defaults whatever their case: one Content-Type on the wire, not two.
        const headers: Record<string, string> = {
          'content-type': 'application/json',
          'content-length': String(Buffer.byteLength(body)),
        };
        for (const [name, value] of Object.entries(fault.headers ?? {})) headers[name.toLowerCase()] = value;
        response.writeHead(fault.status, headers);
        response.end(body);
      });
      return;
    }

    if (fault?.kind === 'redirect') {
      request.resume();
      request.once('end', () => {
        record.status = fault.status ?? 307;
        const location = new URL(request.url ?? '/', fault.to).href;
        response.writeHead(record.status, { location, 'content-length': '0' });
        response.end();
      });
      return;
    }

    if (fault?.kind === 'stall') {
      request.resume();
      const timer = setTimeout(() => {
        record.status = 504;
        if (!response.destroyed) response.writeHead(504).end();
      }, fault.ms ?? 10_000);
      response.once('close', () => clearTimeout(timer));
      return;
    }

    if (fault?.kind === 'drop-request' && !fault.forwardPartial) {
      request.on('data', (chunk: Buffer) => {
        record.requestBytes += chunk.length;
        if (record.requestBytes >= fault.afterBytes) request.socket.destroy();
      });
      request.once('end', () => request.socket.destroy());
      return;
    }

    const forward = (): void => {
      const headers: OutgoingHttpHeaders = { ...request.headers };
      const upstreamRequest = httpRequest(
        { host: target.hostname.replace(/^\[|\]$/g, ''), port: target.port, method, path: request.url, headers, agent },
        (upstreamResponse) => {
          const responseHeaders: OutgoingHttpHeaders = { ...upstreamResponse.headers };
          if (typeof responseHeaders.location === 'string')
            responseHeaders.location = rewrite(responseHeaders.location);
          if (fault?.kind === 'relocate' && typeof responseHeaders.location === 'string') {
            const moved = new URL(responseHeaders.location, origin);
            responseHeaders.location = new URL(`${moved.pathname}${moved.search}`, fault.to).href;
          }
          const challenge = responseHeaders['www-authenticate'];
          if (typeof challenge === 'string') responseHeaders['www-authenticate'] = rewrite(challenge);
          else if (Array.isArray(challenge)) responseHeaders['www-authenticate'] = challenge.map(rewrite);
          record.status = upstreamResponse.statusCode ?? 0;
          response.writeHead(upstreamResponse.statusCode ?? 502, responseHeaders);
          let position = 0;
          upstreamResponse.on('data', (chunk: Buffer) => {
            let out = chunk;
            if (fault?.kind === 'corrupt-response') {
              const at = fault.at ?? 0;
              if (at >= position && at < position + chunk.length) {
                out = Buffer.from(chunk);
                out[at - position] = out[at - position]! ^ 0xff;
              }
            }
            position += chunk.length;
            if (fault?.kind === 'drop-response') {
              const room = fault.afterBytes - record.responseBytes;
              if (room > 0) {
                record.responseBytes += Math.min(room, out.length);
                response.write(out.subarray(0, room));
              }
              if (record.responseBytes >= fault.afterBytes) {
                upstreamResponse.destroy();
                setTimeout(() => response.socket?.destroy(), 20);
              }
              return;
            }
            record.responseBytes += out.length;
            response.write(out);
          });
          upstreamResponse.once('end', () => response.end());
          upstreamResponse.once('error', () => response.destroy());
        },
      );
      upstreamRequest.once('error', () => {
        if (!response.headersSent && !response.destroyed) {
          record.status = 502;
          response.writeHead(502, { 'content-type': 'text/plain' });
          response.end('proxy: upstream failed');
        } else {
          response.destroy();
        }
      });
      request.on('data', (chunk: Buffer) => {
        record.requestBytes += chunk.length;
        if (fault?.kind === 'drop-request') {
          const room = fault.afterBytes - record.forwardedBytes;
          if (room > 0) {
            const part = chunk.subarray(0, room);
            record.forwardedBytes += part.length;
            upstreamRequest.write(part);
          }
          if (record.requestBytes >= fault.afterBytes) {
            // Let the partial bytes reach the registry, then cut both sides.
            setTimeout(() => {
              upstreamRequest.destroy();
              request.socket.destroy();
            }, 50);
            request.pause();
          }
          return;
        }
        record.forwardedBytes += chunk.length;
        if (!upstreamRequest.write(chunk)) {
          request.pause();
          upstreamRequest.once('drain', () => request.resume());
        }
      });
      request.once('end', () => {
        if (fault?.kind !== 'drop-request') upstreamRequest.end();
      });
      request.once('aborted', () => upstreamRequest.destroy());
    };
    if (fault?.kind === 'hold') void fault.until.then(forward);
    else forward();
  };

  const server = createServer(handle);
  server.maxConnections = 128;
  const loopback = await listenOnLoopback(server);
  const port = loopback.port;
  origin = loopback.origin;

  const matching = (method: string, pattern: string): ProxyRecord[] =>
    records.filter((record) => record.pattern === `${method} ${pattern}`);
  return {
    url: origin,
    host: `127.0.0.1:${port}`,
    records,
    seen: (matches) => {
      const earlier = records.find(matches);
      if (earlier) return Promise.resolve(earlier);
      return new Promise((resolve) => waiters.push({ matches, resolve }));
    },
    get maxInFlight() {
      return maxInFlight;
    },
    addFault: (rule) => {
      rules.push({ rule, seen: 0, applied: 0 });
    },
    clearFaults: () => {
      rules.length = 0;
    },
    reset: () => {
      records.length = 0;
      maxInFlight = inFlight;
    },
    count: (method, pattern) => matching(method, pattern).length,
    bytes: (method, pattern) =>
      matching(method, pattern).reduce(
        (sum, record) => ({
          request: sum.request + record.requestBytes,
          forwarded: sum.forwarded + record.forwardedBytes,
          response: sum.response + record.responseBytes,
        }),
        { request: 0, forwarded: 0, response: 0 },
      ),
    stop: async () => {
      agent.destroy();
      await loopback.close();
    },
  };
}
