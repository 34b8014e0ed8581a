import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { temporarySibling } from '../common/atomic.js';
import { GociError } from '../common/errors.js';
import { sha256Digest, type Descriptor } from '../oci/descriptor.js';
import { Authenticator, mergeScopes, repositoryScope } from './auth.js';
import { findCredentials, type RegistryCredential } from './credentials.js';
import {
  addQuery,
  isRegistryFailure,
  isRetryableStatus,
  parseRetryAfter,
  preview,
  readBody,
  redactUrl,
  registryError,
  resolveLocation,
  Transport,
  TransientError,
  type HttpRequest,
  type HttpResponse,
  type RequestBody,
  type RetryPolicy,
  type Verbose,
  type WaitHook,
} from './http.js';
import { registryScheme } from './reference.js';

/** A blob the registry took: where, which, how many bytes. */
export interface UploadEvent {
  host: string;
  repository: string;
  digest: string;
  bytes: number;
}

export type UploadHook = (event: UploadEvent) => void;

/**
 * The OCI distribution client goci pushes and pulls with: one per registry host, sharing its
 * tokens and its connection limit across every repository of that host.
 */
export interface RegistryClientOptions {
  /** Host as on the wire, with port (`127.0.0.1:5000`, `registry-1.docker.io`). */
  registry: string;
  insecureRegistries: readonly string[];
  /** Environment for credential lookup (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** Requests in flight to this host (default 4). */
  concurrency?: number;
  verbose?: Verbose;
  /** Told before every wait between tries, so progress displays show it. */
  onWait?: WaitHook;
  /** Told after each blob upload the registry accepted, so progress displays count the bytes. */
  onUploaded?: UploadHook;
  /** Blobs up to this size go in one PUT; larger ones in PATCH chunks (default 32 MiB). */
  chunkThreshold?: number;
  /** Bytes per PATCH (default 16 MiB, or the registry's OCI-Chunk-Min-Length if larger). */
  chunkSize?: number;
  /** Credentials to use instead of looking them up; null for anonymous. */
  credential?: RegistryCredential | null;
  /** Per request: the longest it may go without progress (default 60 s). */
  timeoutMs?: number;
  retry?: Partial<RetryPolicy>;
  /** For tests: the clock token lifetimes are measured with. */
  now?: () => number;
}

export interface ManifestResponse {
  mediaType: string;
  digest: string;
  bytes: Buffer;
}

export interface ManifestHead {
  mediaType: string;
  digest: string;
  size: number;
}

export const DEFAULT_CHUNK_THRESHOLD = 32 * 1024 * 1024;
export const DEFAULT_CHUNK_SIZE = 16 * 1024 * 1024;
/** The manifest size registries are asked to accept at least (the distribution spec's 4 MiB). */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;
const MAX_ERROR_BODY = 64 * 1024;
const MAX_TAG_PAGES = 1000;
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const DIGEST = /^sha256:[a-f0-9]{64}$/;

function checkDigest(digest: string): void {
  if (!DIGEST.test(digest)) throw new GociError('BAD_ARGUMENT', `"${digest}" is not a sha256 digest`);
}

/** The end of a `Range: 0-<end>` header, or undefined. */
function rangeEnd(header: string | null): number | undefined {
  const match = /^(?:bytes=)?0-(\d+)$/.exec(header?.trim() ?? '');
  return match ? Number(match[1]) : undefined;
}

/**
 * Bytes the registry holds according to `Range: 0-<end>`. distribution 2.8 writes `0-0` for an
 * empty upload as well as for one byte, so `0-0` means one byte only if one was confirmed before.
 */
function offsetFromRange(end: number, confirmed: number): number {
  return end === 0 && confirmed < 1 ? 0 : end + 1;
}

interface OciErrors {
  errors?: { code?: unknown; message?: unknown; detail?: unknown }[];
}

function describeErrors(bytes: Buffer): { codes: string[]; text: string } | undefined {
  try {
    const parsed = JSON.parse(bytes.toString('utf8')) as OciErrors;
    if (!Array.isArray(parsed.errors) || parsed.errors.length === 0) return undefined;
    const codes = parsed.errors.map((error) => String(error.code ?? 'UNKNOWN'));
    const text = parsed.errors
      .map((error) => {
        const detail =
          typeof error.detail === 'string'
            ? error.detail
            : error.detail !== undefined && error.detail !== null
              ? JSON.stringify(error.detail)
              : '';
        return `${String(error.code ?? 'UNKNOWN')}${error.message ? ` ${String(error.message)}` : ''}${detail ? ` (${detail.slice(0, 200)})` : ''}`;
      })
      .join('; ');
    return { codes, text };
  } catch {
    return undefined;
  }
}

export class RegistryClient {
  readonly registry: string;
  private readonly base: string;
  private readonly transport: Transport;
  private readonly auth: Authenticator;
  private readonly chunkThreshold: number;
  private readonly chunkSize: number;
  private credentialLookup: Promise<RegistryCredential | undefined> | undefined;

  constructor(private readonly options: RegistryClientOptions) {
    this.registry = options.registry;
    this.base = `${registryScheme(options.registry, options.insecureRegistries)}://${options.registry}`;
    this.transport = new Transport({
      concurrency: options.concurrency ?? 4,
      ...(options.verbose ? { verbose: options.verbose } : {}),
      ...(options.onWait ? { onWait: options.onWait } : {}),
      ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
      ...(options.retry ? { retry: options.retry } : {}),
    });
    this.auth = new Authenticator({
      registry: options.registry,
      insecureRegistries: options.insecureRegistries,
      transport: this.transport,
      credential: () => this.credential(),
      ...(options.now ? { now: options.now } : {}),
    });
    this.chunkThreshold = options.chunkThreshold ?? DEFAULT_CHUNK_THRESHOLD;
    this.chunkSize = Math.max(1, options.chunkSize ?? DEFAULT_CHUNK_SIZE);
  }

  /** The scheme the registry asked for (`basic`, `bearer`), or undefined while none has. */
  get authScheme(): string | undefined {
    return this.auth.scheme;
  }

  private credential(): Promise<RegistryCredential | undefined> {
    if (this.options.credential !== undefined) return Promise.resolve(this.options.credential ?? undefined);
    this.credentialLookup ??= findCredentials(this.registry, { env: this.options.env ?? process.env });
    return this.credentialLookup;
  }

  private url(path: string): string {
    return `${this.base}${path}`;
  }

  private where(repository: string): string {
    return `${this.registry}/${repository}`;
  }

  /**
   * One request with authentication: anonymous until a 401 says how, then Basic or a Bearer
   * token for `scopes` (and whatever scope the challenge named). A 401 with credentials that
   * were just checked fails; a 401 with a cached token fetches a fresh one once. `consume`
   * sees every other response.
   */
  private async call<T>(
    scopes: readonly string[],
    request: HttpRequest,
    consume: (response: HttpResponse) => Promise<T>,
  ): Promise<T> {
    let wanted = mergeScopes(scopes);
    let force = false;
    for (let round = 0; ; round++) {
      const authorization = await this.auth.authorize(wanted, force);
      // The credential belongs to the registry's origin; the transport attaches it there and nowhere else.
      const credential = authorization.header ? { header: authorization.header, origin: this.base } : undefined;
      type Outcome =
        | { kind: 'done'; value: T }
        | { kind: 'unauthorized'; challenge: string | null }
        | { kind: 'forbidden'; body: Buffer }
        | { kind: 'elsewhere'; url: string };
      const sent: HttpRequest = credential ? { ...request, credential } : request;
      const outcome = await this.transport.send<Outcome>(sent, async (response) => {
        // A 401 from another origin (an upload Location, a redirect) is not the registry's to
        // answer: learning its challenge would send the user's credentials where it points.
        const elsewhere = new URL(response.url).origin !== new URL(this.base).origin;
        if (response.status === 401 && elsewhere) return { kind: 'elsewhere', url: response.url };
        if (response.status === 401)
          return { kind: 'unauthorized', challenge: response.headers.get('www-authenticate') };
        if (response.status === 403)
          return {
            kind: 'forbidden',
            body: await readBody(response, MAX_ERROR_BODY, request).catch(() => Buffer.alloc(0)),
          };
        return { kind: 'done', value: await consume(response) };
      });
      if (outcome.kind === 'done') return outcome.value;
      if (outcome.kind === 'elsewhere') {
        const what = `${request.method} ${redactUrl(outcome.url)} answered 401`;
        const rule = `goci sends ${this.registry}'s credentials to ${this.registry} only`;
        throw registryError('auth', `${this.registry}: ${what}: ${rule}`, {
          hint: 'the registry sent this request to another host (an upload Location, a redirect) that asks for them',
        });
      }
      if (outcome.kind === 'forbidden') {
        const said = describeErrors(outcome.body);
        throw await this.auth.denied(wanted.join(' ') || 'the registry', `403${said ? `: ${said.text}` : ''}`);
      }
      const challenge = this.auth.learn(outcome.challenge);
      if (!challenge) {
        throw registryError(
          'protocol',
          `${this.registry}: ${request.method} ${new URL(request.url).pathname} answered 401 without a challenge goci can answer (${outcome.challenge ? outcome.challenge.split(/\s/)[0] : 'no WWW-Authenticate header'})`,
        );
      }
      const asked = challenge.params.scope ? mergeScopes([...wanted, challenge.params.scope]) : wanted;
      if (challenge.params.error === 'insufficient_scope' && (authorization.fresh || round >= 2)) {
        // The registry's own scope names the missing access best; 2.8 lists actions in random order.
        throw await this.auth.denied(
          mergeScopes([challenge.params.scope ?? wanted.join(' ')]).join(' '),
          'insufficient_scope',
        );
      }
      if (round >= 3) throw await this.auth.rejected(wanted);
      if (authorization.header === undefined) {
        wanted = asked;
        continue;
      }
      if (authorization.fresh || authorization.basic) throw await this.auth.rejected(wanted);
      // A cached token the registry no longer takes (expired early, revoked): one fresh try.
      this.auth.forget(wanted);
      wanted = asked;
      force = true;
    }
  }

  /** The error for a response no method expected: the registry's own error codes when it sent them. */
  private async unexpected(
    response: HttpResponse,
    request: Pick<HttpRequest, 'method' | 'url'>,
    what: string,
  ): Promise<GociError> {
    const body = await readBody(response, MAX_ERROR_BODY, request).catch(() => Buffer.alloc(0));
    const said = describeErrors(body);
    const kind =
      response.status === 404 ? 'not-found' : response.status >= 400 && response.status < 500 ? 'rejected' : 'protocol';
    if (isRetryableStatus(response.status)) {
      const saying = said ? `: ${said.text}` : '';
      const message = `${this.registry}: ${what}: the registry answered ${response.status}${saying}`;
      const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'));
      return new TransientError(message, { retryAfterMs, status: response.status });
    }
    const detail = said
      ? said.text
      : body.length > 0
        ? `${response.headers.get('content-type') ?? 'no content type'}: ${preview(body)}`
        : 'no body';
    // A 404 here is for something the registry itself named or should hold: its fault, not the user's.
    const lost = 'the registry lost it (a purged upload session, a deleted blob); run the command again';
    const message = `${this.registry}: ${what}: the registry answered ${response.status} (${detail})`;
    return registryError(kind, message, kind === 'not-found' ? { hint: lost } : {});
  }

  /** Parses a body that must be JSON; anything else names the registry and what came back. */
  private parseJson(bytes: Buffer, response: Pick<HttpResponse, 'headers' | 'status'>, what: string): unknown {
    try {
      const value = JSON.parse(bytes.toString('utf8')) as unknown;
      if (value === null || typeof value !== 'object') throw new Error('not an object');
      return value;
    } catch {
      throw registryError(
        'protocol',
        `${this.registry}: ${what}: expected JSON but got ${response.headers.get('content-type') ?? 'no content type'} (${response.status}, ${bytes.length} bytes${bytes.length > 0 ? `: ${preview(bytes, 60)}` : ''})`,
      );
    }
  }

  /** GET /v2/: reachable, speaks the distribution API, and (with credentials) accepts them. */
  async ping(): Promise<void> {
    const request = { method: 'GET', url: this.url('/v2/') };
    await this.call([], request, async (response) => {
      if (response.status === 200) return;
      if (response.status === 404)
        throw registryError('protocol', `${this.registry} does not serve the registry API (/v2/ answered 404)`, {
          hint: 'check the host and port',
        });
      throw await this.unexpected(response, request, 'GET /v2/');
    });
  }

  /** The blob's size when the repository has it, else undefined. */
  async blobExists(repository: string, digest: string): Promise<number | undefined> {
    checkDigest(digest);
    const request = { method: 'HEAD', url: this.url(`/v2/${repository}/blobs/${digest}`) };
    return this.call([repositoryScope(repository, ['pull'])], request, async (response) => {
      if (response.status === 404) return undefined;
      if (response.status !== 200) throw await this.unexpected(response, request, `HEAD blob ${digest}`);
      const size = Number(response.headers.get('content-length'));
      if (!Number.isSafeInteger(size) || size < 0)
        throw registryError('protocol', `${this.where(repository)}: HEAD blob ${digest} gave no Content-Length`);
      return size;
    });
  }

  /**
   * Mounts a blob from another repository of this registry. True when the registry mounted it
   * (201); false when it started an upload instead (202, which is cancelled) or the user may
   * not read `fromRepository`: the caller uploads then.
   */
  async mountBlob(repository: string, digest: string, fromRepository: string): Promise<boolean> {
    checkDigest(digest);
    const request = {
      method: 'POST',
      url: this.url(
        `/v2/${repository}/blobs/uploads/?mount=${encodeURIComponent(digest)}&from=${encodeURIComponent(fromRepository)}`,
      ),
      headers: { 'content-length': '0' },
    };
    let started: string | undefined;
    try {
      const mounted = await this.call(
        [repositoryScope(repository, ['pull', 'push']), repositoryScope(fromRepository, ['pull'])],
        request,
        async (response) => {
          if (response.status === 201) {
            this.checkDigestHeader(response, digest, repository);
            return true;
          }
          if (response.status === 202) {
            const location = response.headers.get('location');
            started = location ? resolveLocation(response.url, location) : undefined;
            return false;
          }
          throw await this.unexpected(response, request, `mount of ${digest} from ${fromRepository}`);
        },
      );
      if (started) await this.cancelUpload(repository, started);
      return mounted;
    } catch (error) {
      if (isRegistryFailure(error, 'denied')) {
        this.transport.log(
          `mount of ${digest} from ${fromRepository} into ${repository} not allowed; uploading instead`,
        );
        return false;
      }
      throw error;
    }
  }

  /** Best effort: an abandoned upload session is the registry's to purge if this fails. */
  private async cancelUpload(repository: string, location: string): Promise<void> {
    const request = { method: 'DELETE', url: location, retry: false };
    await this.call([repositoryScope(repository, ['pull', 'push'])], request, async () => undefined).catch(
      () => undefined,
    );
  }

  private checkDigestHeader(response: HttpResponse, digest: string, repository: string): void {
    const header = response.headers.get('docker-content-digest');
    if (header && header !== digest)
      throw registryError(
        'digest',
        `${this.where(repository)}: the registry stored blob ${digest} as ${header}: digest mismatch`,
      );
  }

  /** POST /v2/<repo>/blobs/uploads/: a new session's absolute upload URL and the registry's minimum chunk. */
  private async startUpload(repository: string): Promise<{ location: string; minChunk: number }> {
    const request = {
      method: 'POST',
      url: this.url(`/v2/${repository}/blobs/uploads/`),
      headers: { 'content-length': '0' },
    };
    return this.call([repositoryScope(repository, ['pull', 'push'])], request, async (response) => {
      const location = response.headers.get('location');
      if (response.status !== 202 || !location) {
        if (response.status === 202)
          throw registryError(
            'protocol',
            `${this.where(repository)}: the registry started an upload without a Location`,
          );
        throw await this.unexpected(response, request, 'starting a blob upload');
      }
      const minChunk = Number(response.headers.get('oci-chunk-min-length') ?? 0);
      return {
        location: resolveLocation(response.url, location),
        minChunk: Number.isSafeInteger(minChunk) && minChunk > 0 ? minChunk : 0,
      };
    });
  }

  /**
   * Uploads a blob from a file: POST then PUT with the bytes up to the chunk threshold, PATCH
   * chunks above it. A chunk cut off mid-way is resumed where the registry says it got to
   * (GET on the upload URL); when the session itself is lost, the upload starts over.
   */
  async uploadBlobFile(repository: string, digest: string, size: number, path: string): Promise<void> {
    checkDigest(digest);
    const actual = (await stat(path)).size;
    if (actual !== size)
      throw new GociError('IO_FAILED', `${path} holds ${actual} bytes, but blob ${digest} should have ${size}`);
    if (size <= this.chunkThreshold)
      await this.uploadMonolithic(repository, digest, size, () => createReadStream(path));
    else await this.uploadChunked(repository, digest, size, path);
    this.options.onUploaded?.({ host: this.registry, repository, digest, bytes: size });
  }

  /** Uploads a small blob held in memory (a config, an SBOM): POST then PUT with the bytes. */
  async uploadBlobBytes(repository: string, digest: string, bytes: Buffer): Promise<void> {
    checkDigest(digest);
    if (sha256Digest(bytes) !== digest) throw new GociError('BAD_ARGUMENT', `blob bytes do not hash to ${digest}`);
    await this.uploadMonolithic(repository, digest, bytes.length, bytes);
    this.options.onUploaded?.({ host: this.registry, repository, digest, bytes: bytes.length });
  }

  private async uploadMonolithic(repository: string, digest: string, size: number, body: RequestBody): Promise<void> {
    const scopes = [repositoryScope(repository, ['pull', 'push'])];
    for (let attempt = 0; ; attempt++) {
      const { location } = await this.startUpload(repository);
      const request: HttpRequest = {
        method: 'PUT',
        url: addQuery(location, 'digest', digest),
        headers: { 'content-type': 'application/octet-stream', 'content-length': String(size) },
        body,
        retry: false,
      };
      try {
        await this.call(scopes, request, async (response) => {
          if (response.status === 201 || response.status === 204)
            return this.checkDigestHeader(response, digest, repository);
          throw await this.unexpected(response, request, `upload of blob ${digest}`);
        });
        return;
      } catch (error) {
        if (!(error instanceof TransientError) || attempt + 1 >= this.transport.retry.attempts) throw error;
        await this.cancelUpload(repository, location);
        await this.backoff(attempt, error, `upload of ${digest} failed (${error.message}); starting it again`);
      }
    }
  }

  private async backoff(attempt: number, error: TransientError, why: string): Promise<void> {
    const delay = this.transport.delayFor(attempt, error.retryAfterMs);
    this.transport.log(`${why} in ${(delay / 1000).toFixed(1)} s`);
    const reason = error.status !== undefined ? String(error.status) : 'connection lost';
    const attempts = this.transport.retry.attempts;
    const retryAfter = error.retryAfterMs !== undefined;
    await this.transport.wait(this.base, { reason, retryAfter, delayMs: delay, attempt: attempt + 2, attempts });
  }

  /** GET on an upload URL: how many bytes the registry holds and where to continue; undefined when the session is gone. */
  private async uploadStatus(
    repository: string,
    location: string,
    confirmed: number,
  ): Promise<{ location: string; offset: number } | undefined> {
    const request = { method: 'GET', url: location };
    try {
      return await this.call([repositoryScope(repository, ['pull', 'push'])], request, async (response) => {
        const end = rangeEnd(response.headers.get('range'));
        if ((response.status !== 204 && response.status !== 200) || end === undefined) return undefined;
        const next = response.headers.get('location');
        return {
          location: next ? resolveLocation(response.url, next) : location,
          offset: offsetFromRange(end, confirmed),
        };
      });
    } catch (error) {
      if (error instanceof TransientError) return undefined;
      throw error;
    }
  }

  private async uploadChunked(repository: string, digest: string, size: number, path: string): Promise<void> {
    const scopes = [repositoryScope(repository, ['pull', 'push'])];
    const attempts = this.transport.retry.attempts;
    let restarts = 0;
    session: for (;;) {
      const started = await this.startUpload(repository);
      const chunkSize = Math.max(this.chunkSize, started.minChunk);
      let location = started.location;
      let offset = 0;
      let failures = 0;
      while (offset < size) {
        const end = Math.min(size, offset + chunkSize);
        const from = offset;
        const request: HttpRequest = {
          method: 'PATCH',
          url: location,
          headers: {
            'content-type': 'application/octet-stream',
            'content-length': String(end - from),
            'content-range': `${from}-${end - 1}`,
          },
          body: () => createReadStream(path, { start: from, end: end - 1 }),
          retry: false,
        };
        let outcome: { location: string; offset: number } | 'out-of-order';
        try {
          outcome = await this.call(scopes, request, async (response) => {
            if (response.status === 416) return 'out-of-order' as const;
            if (response.status !== 202)
              throw await this.unexpected(response, request, `upload of blob ${digest} (bytes ${from}-${end - 1})`);
            const next = response.headers.get('location');
            const reported = rangeEnd(response.headers.get('range'));
            return {
              location: next ? resolveLocation(response.url, next) : location,
              offset: reported === undefined ? end : offsetFromRange(reported, end),
            };
          });
        } catch (error) {
          if (!(error instanceof TransientError)) throw error;
          if (++failures >= attempts) throw error;
          await this.backoff(
            failures - 1,
            error,
            `upload of ${digest} interrupted at bytes ${from}-${end - 1} (${error.message}); asking the registry how far it got`,
          );
          outcome = 'out-of-order';
        }
        if (outcome === 'out-of-order') {
          const status = await this.uploadStatus(repository, location, from);
          if (!status || status.offset > size) {
            await this.cancelUpload(repository, location);
            if (++restarts >= attempts)
              throw registryError(
                'unreachable',
                `${this.where(repository)}: upload of blob ${digest} kept failing; gave up after ${restarts} sessions`,
              );
            this.transport.log(`the registry lost the upload session of ${digest}; starting it again`);
            continue session;
          }
          this.transport.log(`resuming upload of ${digest} at byte ${status.offset}`);
          location = status.location;
          offset = status.offset;
          continue;
        }
        failures = 0;
        location = outcome.location;
        offset = outcome.offset;
      }
      const close: HttpRequest = {
        method: 'PUT',
        url: addQuery(location, 'digest', digest),
        headers: { 'content-length': '0' },
        retry: false,
      };
      try {
        await this.call(scopes, close, async (response) => {
          if (response.status === 201 || response.status === 204)
            return this.checkDigestHeader(response, digest, repository);
          throw await this.unexpected(response, close, `completing the upload of blob ${digest}`);
        });
        return;
      } catch (error) {
        if (!(error instanceof TransientError)) throw error;
        // The answer may be what was lost: if the blob is there, the upload is done.
        if ((await this.blobExists(repository, digest)) === size) return;
        if (++restarts >= attempts) throw error;
        await this.backoff(
          restarts - 1,
          error,
          `completing the upload of ${digest} failed (${error.message}); starting it again`,
        );
      }
    }
  }

  /**
   * Downloads a blob to `finalPath`: streamed into a temporary sibling, sha256 and size checked,
   * then renamed. A mismatch leaves nothing behind.
   */
  async fetchBlobToFile(
    repository: string,
    digest: string,
    size: number | undefined,
    finalPath: string,
  ): Promise<void> {
    checkDigest(digest);
    await mkdir(dirname(finalPath), { recursive: true });
    const request = { method: 'GET', url: this.url(`/v2/${repository}/blobs/${digest}`) };
    const tmp = temporarySibling(finalPath);
    const where = this.where(repository);
    try {
      // A retry after a dropped connection runs this again: the scratch file starts over.
      await this.call([repositoryScope(repository, ['pull'])], request, async (response) => {
        if (response.status !== 200) throw await this.unexpected(response, request, `GET blob ${digest}`);
        const hash = createHash('sha256');
        let total = 0;
        const counter = new Transform({
          transform(chunk: Buffer, _encoding, callback) {
            total += chunk.length;
            if (size !== undefined && total > size) {
              callback(
                registryError(
                  'digest',
                  `${where}: blob ${digest}: digest mismatch (more than the expected ${size} bytes)`,
                ),
              );
              return;
            }
            hash.update(chunk);
            callback(null, chunk);
          },
        });
        await pipeline(response.body, counter, createWriteStream(tmp, { mode: 0o644 }));
        const got = `sha256:${hash.digest('hex')}`;
        if (got !== digest || (size !== undefined && total !== size)) {
          throw registryError(
            'digest',
            `${where}: blob ${digest}: digest mismatch (received ${total} bytes hashing to ${got})`,
          );
        }
      });
      await rename(tmp, finalPath);
    } catch (error) {
      await rm(tmp, { force: true });
      throw error;
    }
  }

  /** A small blob (a config, a JSON document) in memory, verified; at most `maxBytes`. */
  async fetchBlobBytes(repository: string, digest: string, maxBytes: number): Promise<Buffer> {
    checkDigest(digest);
    const request = { method: 'GET', url: this.url(`/v2/${repository}/blobs/${digest}`) };
    const bytes = await this.call([repositoryScope(repository, ['pull'])], request, async (response) => {
      if (response.status !== 200) throw await this.unexpected(response, request, `GET blob ${digest}`);
      return readBody(response, maxBytes, request);
    });
    const got = sha256Digest(bytes);
    if (got !== digest)
      throw registryError(
        'digest',
        `${this.where(repository)}: blob ${digest}: digest mismatch (received ${bytes.length} bytes hashing to ${got})`,
      );
    return bytes;
  }

  /**
   * A manifest or index by tag or digest. `accept` must list every media type wanted:
   * distribution 2.8 answers 404 for an OCI manifest not asked for. The digest is the sha256
   * of the bytes; for a digest reference the bytes must hash to it.
   */
  async getManifest(repository: string, reference: string, accept: readonly string[]): Promise<ManifestResponse> {
    const request = {
      method: 'GET',
      url: this.url(`/v2/${repository}/manifests/${reference}`),
      headers: { accept: accept.join(', ') },
    };
    const { bytes, contentType, headerDigest, status, headers } = await this.call(
      [repositoryScope(repository, ['pull'])],
      request,
      async (response) => {
        if (response.status === 404) {
          const body = await readBody(response, MAX_ERROR_BODY, request).catch(() => Buffer.alloc(0));
          throw registryError(
            'not-found',
            `${this.where(repository)}${reference.startsWith('sha256:') ? '@' : ':'}${reference}: manifest not found${describeErrors(body) ? ` (${describeErrors(body)!.text})` : ''}`,
            {
              hint: `check the name and tag; goci asked for ${accept.join(', ')}`,
            },
          );
        }
        if (response.status !== 200) throw await this.unexpected(response, request, `GET manifest ${reference}`);
        return {
          bytes: await readBody(response, MAX_MANIFEST_BYTES, request),
          contentType: (response.headers.get('content-type') ?? '').split(';')[0]!.trim(),
          headerDigest: response.headers.get('docker-content-digest'),
          status: response.status,
          headers: response.headers,
        };
      },
    );
    const digest = sha256Digest(bytes);
    if (DIGEST.test(reference) && digest !== reference) {
      throw registryError(
        'digest',
        `${this.where(repository)}@${reference}: manifest digest mismatch (the registry sent bytes hashing to ${digest})`,
      );
    }
    if (headerDigest && headerDigest !== digest && headerDigest.startsWith('sha256:')) {
      this.transport.log(
        `${this.where(repository)}:${reference}: Docker-Content-Digest ${headerDigest} does not match the bytes (${digest}); using the bytes' digest`,
      );
    }
    const document = this.parseJson(bytes, { headers, status }, `manifest ${reference}`) as { mediaType?: unknown };
    const mediaType =
      typeof document.mediaType === 'string' && document.mediaType !== '' ? document.mediaType : contentType;
    return { mediaType, digest, bytes };
  }

  /** What a manifest HEAD says (media type, digest, size), or undefined when there is none. */
  async headManifest(
    repository: string,
    reference: string,
    accept: readonly string[],
  ): Promise<ManifestHead | undefined> {
    const request = {
      method: 'HEAD',
      url: this.url(`/v2/${repository}/manifests/${reference}`),
      headers: { accept: accept.join(', ') },
    };
    const head = await this.call([repositoryScope(repository, ['pull'])], request, async (response) => {
      if (response.status === 404) return undefined;
      if (response.status !== 200) throw await this.unexpected(response, request, `HEAD manifest ${reference}`);
      return {
        mediaType: (response.headers.get('content-type') ?? '').split(';')[0]!.trim(),
        digest: response.headers.get('docker-content-digest') ?? undefined,
        size: Number(response.headers.get('content-length')),
      };
    });
    if (!head) return undefined;
    if (DIGEST.test(reference)) {
      if (head.digest && head.digest !== reference)
        throw registryError(
          'digest',
          `${this.where(repository)}@${reference}: manifest digest mismatch (the registry says ${head.digest})`,
        );
      if (Number.isSafeInteger(head.size) && head.mediaType)
        return { mediaType: head.mediaType, digest: reference, size: head.size };
    } else if (head.digest && DIGEST.test(head.digest) && Number.isSafeInteger(head.size) && head.mediaType) {
      return { mediaType: head.mediaType, digest: head.digest, size: head.size };
    }
    // The HEAD left something out: the GET says it all.
    const full = await this.getManifest(repository, reference, accept);
    return { mediaType: full.mediaType, digest: full.digest, size: full.bytes.length };
  }

  /**
   * PUT a manifest or index under a tag or its digest. `subject` tells whether the registry
   * processed a `subject` field (the OCI-Subject header); when false, referrers are the
   * client's to list under the `sha256-<hex>` tag.
   */
  async putManifest(
    repository: string,
    reference: string,
    mediaType: string,
    bytes: Buffer,
  ): Promise<{ digest: string; subject: boolean }> {
    const digest = sha256Digest(bytes);
    if (DIGEST.test(reference) && reference !== digest)
      throw new GociError('BAD_ARGUMENT', `manifest bytes hash to ${digest}, not ${reference}`);
    const request = {
      method: 'PUT',
      url: this.url(`/v2/${repository}/manifests/${reference}`),
      headers: { 'content-type': mediaType },
      body: bytes,
    };
    return this.call([repositoryScope(repository, ['pull', 'push'])], request, async (response) => {
      if (response.status !== 201 && response.status !== 200 && response.status !== 202)
        throw await this.unexpected(response, request, `PUT manifest ${reference}`);
      const header = response.headers.get('docker-content-digest');
      if (header && header !== digest)
        throw registryError(
          'digest',
          `${this.where(repository)}: the registry stored manifest ${reference} as ${header}, but its bytes hash to ${digest}: digest mismatch`,
        );
      return { digest, subject: response.headers.has('oci-subject') };
    });
  }

  /**
   * The manifests whose `subject` is `digest`: the referrers API, or on its 404 (as on
   * distribution 2.8, which has none) the index under the `sha256-<hex>` tag; none when that is
   * missing or not an index.
   */
  async referrers(repository: string, digest: string): Promise<Descriptor[]> {
    checkDigest(digest);
    const request = {
      method: 'GET',
      url: this.url(`/v2/${repository}/referrers/${digest}`),
      headers: { accept: OCI_INDEX },
    };
    const fromApi = await this.call([repositoryScope(repository, ['pull'])], request, async (response) => {
      if (response.status === 404) return undefined;
      if (response.status !== 200) throw await this.unexpected(response, request, `GET referrers of ${digest}`);
      const bytes = await readBody(response, MAX_MANIFEST_BYTES, request);
      return this.descriptorsOf(this.parseJson(bytes, response, `referrers of ${digest}`), `referrers of ${digest}`);
    });
    if (fromApi) return fromApi;
    let index: ManifestResponse;
    try {
      index = await this.getManifest(repository, digest.replace(':', '-'), [OCI_INDEX]);
    } catch (error) {
      if (isRegistryFailure(error, 'not-found')) return [];
      throw error;
    }
    if (index.mediaType !== OCI_INDEX) return [];
    try {
      return this.descriptorsOf(JSON.parse(index.bytes.toString('utf8')), `the referrers tag of ${digest}`);
    } catch {
      return [];
    }
  }

  private descriptorsOf(document: unknown, what: string): Descriptor[] {
    const manifests = (document as { manifests?: unknown }).manifests;
    if (manifests === undefined || manifests === null) return [];
    if (!Array.isArray(manifests))
      throw registryError('protocol', `${this.registry}: ${what}: "manifests" is not a list`);
    return manifests.map((item) => {
      const entry = item as Record<string, unknown>;
      if (typeof entry.mediaType !== 'string' || typeof entry.digest !== 'string' || typeof entry.size !== 'number') {
        throw registryError('protocol', `${this.registry}: ${what}: an entry lacks mediaType, digest or size`);
      }
      const descriptor: Descriptor & { artifactType?: string } = {
        mediaType: entry.mediaType,
        digest: entry.digest,
        size: entry.size,
      };
      if (typeof entry.artifactType === 'string') descriptor.artifactType = entry.artifactType;
      if (entry.annotations && typeof entry.annotations === 'object')
        descriptor.annotations = entry.annotations as Record<string, string>;
      return descriptor;
    });
  }

  /** Every tag of a repository (following `Link: <...>; rel="next"` pages); none when the repository does not exist. */
  async listTags(repository: string): Promise<string[]> {
    const tags: string[] = [];
    let url: string | undefined = this.url(`/v2/${repository}/tags/list`);
    for (let page = 0; url !== undefined && page < MAX_TAG_PAGES; page++) {
      const request: HttpRequest = { method: 'GET', url, headers: { accept: 'application/json' } };
      const result: { tags: string[]; next: string | undefined } | undefined = await this.call(
        [repositoryScope(repository, ['pull'])],
        request,
        async (response) => {
          if (response.status === 404) {
            const body = await readBody(response, MAX_ERROR_BODY, request).catch(() => Buffer.alloc(0));
            if (describeErrors(body)?.codes.includes('NAME_UNKNOWN')) return undefined;
            throw registryError(
              'not-found',
              `${this.where(repository)}: GET tags/list answered 404 (${describeErrors(body)?.text ?? preview(body)})`,
            );
          }
          if (response.status !== 200) throw await this.unexpected(response, request, 'GET tags/list');
          const bytes = await readBody(response, MAX_MANIFEST_BYTES, request);
          const document = this.parseJson(bytes, response, 'tags/list') as { tags?: unknown };
          const list = document.tags === null || document.tags === undefined ? [] : document.tags;
          if (!Array.isArray(list) || !list.every((tag) => typeof tag === 'string'))
            throw registryError('protocol', `${this.where(repository)}: tags/list: "tags" is not a list of strings`);
          const link = /<([^>]+)>\s*;\s*rel="?next"?/i.exec(response.headers.get('link') ?? '');
          return { tags: list as string[], next: link ? resolveLocation(response.url, link[1]!) : undefined };
        },
      );
      if (!result) return [];
      tags.push(...result.tags);
      url = result.next;
    }
    return tags;
  }
}
