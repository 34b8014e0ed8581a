import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { GociError, type GociErrorCode } from '../common/errors.js';
import { exchange, type ExchangeResponse, type ResponseHeaders } from './exchange.js';
import { Semaphore } from '../common/semaphore.js';

/**
 * The HTTP transport every registry request goes through: Node's http module (exchange.ts), a timeout that
 * fires when a request or response stalls, retries with exponential backoff and jitter for
 * 5xx, 429 and dropped connections (never for a refused one), one concurrency limit per host,
 * and a verbose hook that sees method, URL (query values hidden) and status, never a header.
 */

/** What went wrong, so the error codes live in one place (see the report for the codes goci lacks). */
export type RegistryFailure = 'auth' | 'denied' | 'unreachable' | 'protocol' | 'not-found' | 'digest' | 'rejected';

const FAILURE_CODES: Record<RegistryFailure, GociErrorCode> = {
  auth: 'REGISTRY_AUTH',
  denied: 'REGISTRY_DENIED',
  unreachable: 'REGISTRY_UNREACHABLE',
  protocol: 'REGISTRY_PROTOCOL',
  // Something the registry should hold (a blob, an upload session) is gone: not the user's input.
  // A user's reference that names nothing is reported by its reader as NOT_FOUND (exit 2).
  'not-found': 'REGISTRY_NOT_FOUND',
  digest: 'DIGEST_MISMATCH',
  rejected: 'REGISTRY_PROTOCOL',
};

/** A GociError that says which kind of registry failure it is, so callers can tell a denial from a drop. */
export class RegistryError extends GociError {
  readonly failure: RegistryFailure;

  constructor(
    failure: RegistryFailure,
    message: string,
    options: { hint?: string; detail?: string; cause?: unknown } = {},
  ) {
    super(FAILURE_CODES[failure], message, options);
    this.failure = failure;
  }
}

export function registryError(
  kind: RegistryFailure,
  message: string,
  options: { hint?: string; detail?: string; cause?: unknown } = {},
): RegistryError {
  return new RegistryError(kind, message, options);
}

export function isRegistryFailure(error: unknown, kind: RegistryFailure): boolean {
  return error instanceof RegistryError && error.failure === kind;
}

/**
 * A failure worth trying again (a dropped connection, a stall, a 5xx or 429 the caller chose
 * not to have retried for it). Upload code catches it to resume; everything else sees a GociError.
 */
export class TransientError extends RegistryError {
  /** How long the server asked to wait (Retry-After), if it said. */
  readonly retryAfterMs: number | undefined;
  /** The HTTP status that said so (429, 503), when it was one rather than a lost connection. */
  readonly status: number | undefined;

  constructor(
    message: string,
    options: { retryAfterMs?: number | undefined; status?: number; hint?: string; cause?: unknown } = {},
  ) {
    super('unreachable', message, options);
    this.retryAfterMs = options.retryAfterMs;
    this.status = options.status;
  }
}

/** The connection broke while the response body was being read. */
class ConnectionLost extends TransientError {}

export interface RetryPolicy {
  /** Tries in all, the first included. */
  attempts: number;
  /** The first backoff; each next one doubles, up to maxDelayMs, with jitter in [half, full]. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** The longest wait a Retry-After may ask for. */
  maxRetryAfterMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 5, baseDelayMs: 250, maxDelayMs: 8_000, maxRetryAfterMs: 60_000 };
export const DEFAULT_TIMEOUT_MS = 60_000;
export const DEFAULT_CONCURRENCY = 4;

export type Verbose = (line: string) => void;

/** A body that can be sent again: bytes, or a function that opens a fresh stream each time. */
export type RequestBody = Uint8Array | string | (() => Readable);

export interface HttpRequest {
  method: string;
  url: string | URL;
  headers?: Record<string, string>;
  body?: RequestBody;
  /**
   * Whether the transport retries this request itself (default true). Uploads that append to a
   * session turn it off: after a drop they ask the registry how far it got instead.
   */
  retry?: boolean;
  /** Follow redirects (default true); the credential goes only to the hops on its own origin. */
  followRedirects?: boolean;
  /**
   * The credential for this request and the origin it belongs to. The transport is the one
   * place an Authorization header is put on the wire: only when the URL of the hop being sent
   * (the request's, or a redirect's) has exactly that scheme, host and port.
   */
  credential?: ScopedCredential;
}

/** An Authorization header value and the origin (`scheme://host:port`) it was obtained for. */
export interface ScopedCredential {
  header: string;
  origin: string;
}

/** What the transport is waiting for before it tries again, for progress displays. */
export interface WaitEvent {
  /** The host asked (`host:port`). */
  host: string;
  /** Why: the status (429, 503) or what happened to the connection (ECONNRESET, an upload cut). */
  reason: string;
  /** The server asked for this wait (Retry-After), rather than goci's own backoff. */
  retryAfter: boolean;
  delayMs: number;
  /** The try that comes after the wait (2 for the first retry) and how many there may be. */
  attempt: number;
  attempts: number;
}

export type WaitHook = (event: WaitEvent) => void;

export interface HttpResponse {
  status: number;
  headers: ResponseHeaders;
  /** The URL that answered (after redirects). */
  url: string;
  /** The body; the transport lets go of it if the consumer leaves it unread. */
  body: Readable;
}

export interface BufferedResponse {
  status: number;
  headers: ResponseHeaders;
  url: string;
  bytes: Buffer;
}

export interface TransportOptions {
  /** Per request: the longest a request may go without sending or receiving a byte. */
  timeoutMs?: number;
  retry?: Partial<RetryPolicy>;
  /** Requests in flight per host, shared by every transport in this process (the first to ask sets it). */
  concurrency?: number;
  verbose?: Verbose;
  /** Told before every wait between tries (Retry-After or backoff), so a display never goes silent. */
  onWait?: WaitHook;
  /** For tests: where backoff jitter comes from. */
  random?: () => number;
}

const hostLimits = new Map<string, Semaphore>();

/** The limiter of one host (`host:port`), made on first use with that caller's limit. */
export function hostLimiter(host: string, limit: number): { acquire(): Promise<() => void>; limit: number } {
  let semaphore = hostLimits.get(host);
  if (!semaphore) {
    semaphore = new Semaphore(Math.max(1, Math.floor(limit)));
    hostLimits.set(host, semaphore);
  }
  return semaphore;
}

/** A Location header resolved against the URL it answered, its query (`_state`) kept verbatim. */
export function resolveLocation(requestUrl: string | URL, location: string): string {
  return new URL(location, requestUrl).href;
}

/** Adds one query parameter without re-encoding the ones already there (signed URLs stay valid). */
export function addQuery(url: string, name: string, value: string): string {
  const hash = url.indexOf('#');
  const base = hash >= 0 ? url.slice(0, hash) : url;
  return `${base}${base.includes('?') ? (base.endsWith('?') || base.endsWith('&') ? '' : '&') : '?'}${encodeURIComponent(name)}=${encodeURIComponent(value)}`;
}

/** The URL with every query value replaced by `…`: upload state, signatures and tokens stay out of logs. */
export function redactUrl(url: string | URL): string {
  const parsed = new URL(url);
  const names = [...parsed.searchParams.keys()];
  const query = names.length > 0 ? `?${names.map((name) => `${name}=…`).join('&')}` : '';
  return `${parsed.protocol}//${parsed.host}${parsed.pathname}${query}`;
}

/**
 * Milliseconds a Retry-After header asks for: delta-seconds or an HTTP-date; undefined when
 * absent or unreadable. Never negative.
 */
export function parseRetryAfter(value: string | null | undefined, now: number = Date.now()): number | undefined {
  if (value === null || value === undefined) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const date = Date.parse(text);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}

/** Exponential backoff with jitter: attempt 0 waits base/2..base, attempt 1 base..2·base, … capped. */
export function backoffDelay(attempt: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const full = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** attempt);
  return Math.round(full / 2 + (full / 2) * random());
}

/** The delay before retry number `attempt`: the server's Retry-After (capped) when it gave one, else backoff. */
export function retryDelay(
  attempt: number,
  policy: RetryPolicy,
  retryAfterMs: number | undefined,
  random: () => number = Math.random,
): number {
  if (retryAfterMs !== undefined) return Math.min(retryAfterMs, policy.maxRetryAfterMs);
  return backoffDelay(attempt, policy, random);
}

function errorCodes(error: unknown): { codes: string[]; messages: string[] } {
  const codes: string[] = [];
  const messages: string[] = [];
  const seen = new Set<unknown>();
  const visit = (value: unknown): void => {
    if (value === null || value === undefined || typeof value !== 'object' || seen.has(value)) return;
    seen.add(value);
    const record = value as { code?: unknown; message?: unknown; cause?: unknown; errors?: unknown };
    if (typeof record.code === 'string') codes.push(record.code);
    if (typeof record.message === 'string') messages.push(record.message);
    visit(record.cause);
    if (Array.isArray(record.errors)) for (const inner of record.errors) visit(inner);
  };
  visit(error);
  return { codes, messages };
}

const TLS_CODES =
  /^(CERT_|ERR_TLS_|ERR_SSL_|UNABLE_TO_|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|HOSTNAME_MISMATCH|ERR_OSSL)/;

/** How a failed request should be handled: fail now (refused, no such host, TLS), or retry. */
export function classifyNetworkError(error: unknown): {
  kind: 'refused' | 'dns' | 'tls' | 'timeout' | 'dropped';
  code: string;
} {
  const { codes, messages } = errorCodes(error);
  if (codes.includes('ECONNREFUSED')) return { kind: 'refused', code: 'ECONNREFUSED' };
  const dns = codes.find((code) => code === 'ENOTFOUND');
  if (dns) return { kind: 'dns', code: dns };
  const tls = codes.find((code) => TLS_CODES.test(code));
  if (tls) return { kind: 'tls', code: tls };
  if (codes.includes('GOCI_TIMEOUT')) return { kind: 'timeout', code: 'timeout' };
  const known = codes.find((code) =>
    /^(ECONNRESET|EPIPE|ETIMEDOUT|ECONNABORTED|EHOSTUNREACH|ENETUNREACH|EAI_AGAIN|UND_ERR_\w+)$/.test(code),
  );
  if (known) return { kind: 'dropped', code: known };
  const message = messages.find((text) => /socket hang up|other side closed|fetch failed|terminated/i.test(text));
  return { kind: 'dropped', code: message ?? codes[0] ?? 'connection error' };
}

function seconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(1))} s`;
}

class TimeoutSignal extends Error {
  readonly code = 'GOCI_TIMEOUT';
}

/** An idle timer that aborts a request when neither side moves for `ms`. */
function idleAbort(ms: number): { signal: AbortSignal; touch(): void; clear(): void } {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const arm = (): void => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => controller.abort(new TimeoutSignal(`no progress for ${ms} ms`)), ms);
    timer.unref?.();
  };
  arm();
  return {
    signal: controller.signal,
    touch: arm,
    clear: () => {
      if (timer) clearTimeout(timer);
      timer = undefined;
    },
  };
}

/** What goes on the wire for a body: its bytes, or a fresh stream of it for this try. */
function requestBody(body: RequestBody | undefined): Uint8Array | string | Readable | undefined {
  return typeof body === 'function' ? body() : body;
}

function hostOf(url: string | URL): string {
  return new URL(url).host;
}

/** Whether a status is one the transport retries: 429 and 5xx except 501 (not implemented) and 505. */
export function isRetryableStatus(status: number): boolean {
  return status === 429 || (status >= 500 && status <= 599 && status !== 501 && status !== 505);
}

export class Transport {
  readonly timeoutMs: number;
  readonly retry: RetryPolicy;
  readonly verbose: Verbose | undefined;
  readonly onWait: WaitHook | undefined;
  private readonly concurrency: number;
  private readonly random: () => number;

  constructor(options: TransportOptions = {}) {
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.retry = { ...DEFAULT_RETRY, ...options.retry };
    this.concurrency = options.concurrency ?? DEFAULT_CONCURRENCY;
    this.verbose = options.verbose;
    this.onWait = options.onWait;
    this.random = options.random ?? Math.random;
  }

  log(line: string): void {
    this.verbose?.(line);
  }

  /** Tells the wait hook, then waits `delayMs`. */
  async wait(url: string | URL, event: Omit<WaitEvent, 'host'>): Promise<void> {
    this.onWait?.({ host: hostOf(url), ...event });
    await sleep(event.delayMs);
  }

  /** The wait before retry number `attempt` (0-based), honouring a Retry-After. */
  delayFor(attempt: number, retryAfterMs: number | undefined): number {
    return retryDelay(attempt, this.retry, retryAfterMs, this.random);
  }

  /**
   * Sends a request and hands the final response to `consume` while holding the host's
   * concurrency slot and keeping the idle timeout armed; the body is cancelled afterwards if
   * `consume` left it unread. Retries (when allowed) happen before `consume` sees anything.
   */
  async send<T>(request: HttpRequest, consume: (response: HttpResponse) => Promise<T>): Promise<T> {
    const allowRetry = request.retry !== false;
    // What consumes a GET or HEAD only reads (into memory or a scratch file it truncates), so a
    // connection lost mid-body is retried like one lost before the headers.
    const rereadable = allowRetry && (request.method === 'GET' || request.method === 'HEAD');
    for (let attempt = 0; ; attempt++) {
      const last = !allowRetry || attempt + 1 >= this.retry.attempts;
      const limiter = hostLimiter(hostOf(request.url), this.concurrency);
      const release = await limiter.acquire();
      let retryAfterMs: number | undefined;
      let failure: string;
      let reason: string | undefined;
      try {
        const outcome = await this.once(request, async (response) => {
          if (allowRetry && !last && isRetryableStatus(response.status)) {
            retryAfterMs = parseRetryAfter(response.headers.get('retry-after'));
            return { retry: true as const, status: response.status };
          }
          return { retry: false as const, value: await consume(response) };
        });
        if (!outcome.retry) return outcome.value;
        failure = String(outcome.status);
      } catch (error) {
        if (error instanceof ConnectionLost && rereadable && !last) {
          failure = error.message;
          reason = 'connection lost';
        } else if (error instanceof NetworkFailure) {
          const kind = error.classification.kind;
          if (kind === 'refused' || kind === 'dns' || kind === 'tls' || last)
            throw this.networkError(request, error, attempt + 1);
          failure = error.classification.code;
        } else {
          throw error;
        }
      } finally {
        release();
      }
      const delay = this.delayFor(attempt, retryAfterMs);
      this.log(
        `${request.method} ${redactUrl(request.url)} → ${failure}, retrying in ${(delay / 1000).toFixed(1)} s (${attempt + 2}/${this.retry.attempts})`,
      );
      const retryAfter = retryAfterMs !== undefined;
      const attempts = this.retry.attempts;
      const next = attempt + 2;
      await this.wait(request.url, { reason: reason ?? failure, retryAfter, delayMs: delay, attempt: next, attempts });
    }
  }

  /** Sends and reads the whole body (at most `maxBytes`). */
  async buffered(request: HttpRequest, maxBytes: number): Promise<BufferedResponse> {
    return this.send(request, async (response) => ({
      status: response.status,
      headers: response.headers,
      url: response.url,
      bytes: await readBody(response, maxBytes, request),
    }));
  }

  private networkError(request: HttpRequest, error: NetworkFailure, attempts: number): GociError {
    const url = new URL(request.url);
    const { kind, code } = error.classification;
    if (kind === 'refused') {
      return registryError('unreachable', `cannot connect to ${url.host}: connection refused`, {
        hint: 'is the registry running at that host and port?',
        cause: error.cause,
      });
    }
    if (kind === 'dns')
      return registryError('unreachable', `cannot connect to ${url.host}: no such host`, {
        hint: 'check the registry name',
        cause: error.cause,
      });
    if (kind === 'tls')
      return registryError('unreachable', `${url.host}: TLS handshake failed (${code})`, {
        hint: "the registry's certificate is not trusted; for a registry without TLS pass --insecure-registry",
        cause: error.cause,
      });
    const what = kind === 'timeout' ? `no progress for ${seconds(this.timeoutMs)}` : `connection failed (${code})`;
    const message = `${url.host}: ${request.method} ${url.pathname}: ${what}${attempts > 1 ? ` after ${attempts} attempts` : ''}`;
    return new TransientError(message, { cause: error.cause });
  }

  /** One request (following redirects by hand), with the idle timeout, then `consume`. */
  private async once<T>(request: HttpRequest, consume: (response: HttpResponse) => Promise<T>): Promise<T> {
    const timer = idleAbort(this.timeoutMs);
    let url = new URL(request.url);
    const headers: Record<string, string> = { 'accept-encoding': 'identity' };
    // Only `request.credential` may authorize, and only on its origin: a header smuggled in
    // through `headers` would follow the request anywhere.
    for (const [name, value] of Object.entries(request.headers ?? {})) {
      if (name.toLowerCase() !== 'authorization') headers[name] = value;
    }
    let method = request.method;
    let body = request.body;
    try {
      for (let hop = 0; ; hop++) {
        let response: ExchangeResponse;
        try {
          response = await exchange({
            method,
            url,
            headers: withCredential(headers, url, request.credential),
            body: requestBody(body),
            signal: timer.signal,
            touch: timer.touch,
          });
        } catch (error) {
          throw new NetworkFailure(timer.signal.aborted ? timer.signal.reason : error);
        }
        this.log(`${method} ${redactUrl(url)} ${response.status}`);
        const location = response.headers.get('location');
        if (
          request.followRedirects !== false &&
          [301, 302, 303, 307, 308].includes(response.status) &&
          location &&
          hop < 10
        ) {
          response.discard();
          const next = new URL(location, url);
          if (response.status === 303 || ((response.status === 301 || response.status === 302) && method === 'POST')) {
            method = method === 'HEAD' ? 'HEAD' : 'GET';
            body = undefined;
          }
          url = next;
          continue;
        }
        const wrapped: HttpResponse = {
          status: response.status,
          headers: response.headers,
          url: url.href,
          body: response.body,
        };
        try {
          return await consume(wrapped);
        } catch (error) {
          if (error instanceof GociError) throw error;
          if (timer.signal.aborted || isNetworkish(error)) {
            const classification = classifyNetworkError(timer.signal.aborted ? timer.signal.reason : error);
            throw new ConnectionLost(
              `${url.host}: ${method} ${url.pathname}: ${classification.kind === 'timeout' ? `no progress for ${seconds(this.timeoutMs)}` : `connection lost while reading the response (${classification.code})`}`,
              { cause: error },
            );
          }
          throw error;
        } finally {
          response.discard();
        }
      }
    } finally {
      timer.clear();
    }
  }
}

/** The headers of one hop: with the credential when the hop's origin is the credential's own, else without. */
export function withCredential(
  headers: Record<string, string>,
  url: URL,
  credential: ScopedCredential | undefined,
): Record<string, string> {
  const own = credential !== undefined && url.origin === new URL(credential.origin).origin;
  return own ? { ...headers, authorization: credential.header } : headers;
}

class NetworkFailure extends Error {
  readonly classification: ReturnType<typeof classifyNetworkError>;

  constructor(cause: unknown) {
    super('network failure', { cause });
    this.classification = classifyNetworkError(cause);
  }
}

function isNetworkish(error: unknown): boolean {
  const { codes, messages } = errorCodes(error);
  return (
    codes.some((code) => /^(E[A-Z]+|UND_ERR_\w+|GOCI_TIMEOUT|ABORT_ERR)$/.test(code)) ||
    messages.some((text) => /terminated|socket|fetch failed|aborted/i.test(text))
  );
}

/** Reads a response body up to `maxBytes`, failing (not truncating) beyond it. */
export async function readBody(
  response: HttpResponse,
  maxBytes: number,
  request: Pick<HttpRequest, 'method' | 'url'>,
): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of response.body as AsyncIterable<Buffer>) {
    total += chunk.length;
    if (total > maxBytes) {
      throw registryError(
        'protocol',
        `${new URL(request.url).host}: ${request.method} ${new URL(request.url).pathname}: the response is larger than ${maxBytes} bytes`,
      );
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, total);
}

/** A short, printable preview of a response body for error messages (no control characters). */
export function preview(bytes: Buffer, length = 80): string {
  const text = bytes
    .subarray(0, length)
    .toString('utf8')
    .replace(/[^\x20-\x7e]+/g, ' ')
    .trim();
  return bytes.length > length ? `${text}…` : text;
}
