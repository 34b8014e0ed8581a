/**
 * A minimal gRPC client (unary calls only) over one HTTP/2 session on any Duplex, made for the
 * BuildKit gateway: BuildKit serves the LLBBridge service on the frontend's stdin/stdout, and
 * @grpc/grpc-js cannot run over a custom stream, so the client speaks gRPC over node:http2 itself.
 *
 * Like BuildKit's own Go client (frontend/gateway/grpcclient), it dials "localhost" (so
 * :authority is `localhost`), uses plaintext HTTP/2, and sends no keepalive pings.
 */
import http2, { type ClientHttp2Session, type ClientHttp2Stream, type OutgoingHttpHeaders } from 'node:http2';
import type { Duplex } from 'node:stream';
import { finished } from 'node:stream/promises';
import { DEFAULT_MAX_MESSAGE_BYTES, encodeMessage, MessageDecoder } from './framing.js';
import { errorFromStatus, GrpcCode, GrpcError, statusFromResponse, type IncomingHttpHeaders } from './status.js';
import { stdioDuplex, type StdioDuplexOptions } from './stdio.js';

/** Per-stream receive window: how much of one response BuildKit may send before we acknowledge. */
export const STREAM_WINDOW_BYTES = 8 * 1024 * 1024;
/** Connection receive window, shared by concurrent calls. */
export const CONNECTION_WINDOW_BYTES = 32 * 1024 * 1024;
/**
 * nghttp2's memory cap for the session, in megabytes (Node's default is 10). Data queued to be
 * sent counts towards it, and a request may be up to maxSendMessageBytes, so leave room for a few.
 */
export const SESSION_MEMORY_MB = 256;
/** Largest header block we accept: trailers carry grpc-status-details-bin, which BuildKit fills with stacks. */
export const MAX_HEADER_LIST_BYTES = 4 * 1024 * 1024;

/** BuildKit's Go client dials the target "localhost", so that is the :authority it sends. */
export const AUTHORITY = 'localhost';

/** How long close() lets node:http2 finish a graceful close before it destroys the session. */
export const CLOSE_GRACE_MS = 2000;

export const DEFAULT_USER_AGENT = `goci-grpc/1 (node ${process.version})`;

export interface GrpcClientOptions {
  /** Largest response message accepted (RESOURCE_EXHAUSTED beyond). Default 64 MiB. */
  maxReceiveMessageBytes?: number;
  /** Largest request message sent (RESOURCE_EXHAUSTED beyond, nothing is sent). Default 64 MiB. */
  maxSendMessageBytes?: number;
  userAgent?: string;
  /**
   * Debug log of calls and connection events: a function receives each line; `true` writes them
   * to process.stderr. Never stdout, which carries the connection.
   */
  log?: boolean | ((line: string) => void);
}

export interface StdioClientOptions extends GrpcClientOptions {
  /** Override the streams (tests) or the stdout guard; see StdioDuplexOptions. */
  stdio?: StdioDuplexOptions;
}

export interface UnaryOptions {
  /** Deadline for the call, sent as grpc-timeout and enforced locally (DEADLINE_EXCEEDED). */
  timeoutMs?: number;
  /** Custom metadata: lower-case names of [0-9a-z_.-]; names ending in -bin take base64 values. */
  metadata?: Record<string, string>;
}

const RESERVED_METADATA = new Set([
  'content-type',
  'te',
  'user-agent',
  'host',
  'connection',
  'keep-alive',
  'transfer-encoding',
  'upgrade',
  'proxy-connection',
]);

const HTTP2_ERROR_NAMES: Record<number, string> = {
  0: 'NO_ERROR',
  1: 'PROTOCOL_ERROR',
  2: 'INTERNAL_ERROR',
  3: 'FLOW_CONTROL_ERROR',
  4: 'SETTINGS_TIMEOUT',
  5: 'STREAM_CLOSED',
  6: 'FRAME_SIZE_ERROR',
  7: 'REFUSED_STREAM',
  8: 'CANCEL',
  9: 'COMPRESSION_ERROR',
  10: 'CONNECT_ERROR',
  11: 'ENHANCE_YOUR_CALM',
  12: 'INADEQUATE_SECURITY',
  13: 'HTTP_1_1_REQUIRED',
};

function http2ErrorName(code: number): string {
  return `${HTTP2_ERROR_NAMES[code] ?? 'UNKNOWN_ERROR'} (${code})`;
}

/** The gRPC code for an RST_STREAM error code, per gRPC over HTTP/2 ("Errors"). */
function codeForRstStream(code: number): number {
  switch (code) {
    case http2.constants.NGHTTP2_REFUSED_STREAM:
      return GrpcCode.UNAVAILABLE;
    case http2.constants.NGHTTP2_CANCEL:
      return GrpcCode.CANCELLED;
    case http2.constants.NGHTTP2_ENHANCE_YOUR_CALM:
      return GrpcCode.RESOURCE_EXHAUSTED;
    case http2.constants.NGHTTP2_INADEQUATE_SECURITY:
      return GrpcCode.PERMISSION_DENIED;
    default:
      return GrpcCode.INTERNAL;
  }
}

/** grpc-timeout: at most 8 digits and a unit; rounded up so the server never sees a shorter deadline. */
export function encodeGrpcTimeout(timeoutMs: number): string {
  const units: Array<[string, number]> = [
    ['m', 1],
    ['S', 1000],
    ['M', 60_000],
    ['H', 3_600_000],
  ];
  for (const [unit, ms] of units) {
    const value = Math.ceil(timeoutMs / ms);
    if (value <= 99_999_999) return `${value}${unit}`;
  }
  return '99999999H';
}

function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

interface SessionEnd {
  /** Why the connection is unusable, for the calls it fails. */
  reason: string;
  cause?: unknown;
}

export class GrpcClient {
  readonly maxReceiveMessageBytes: number;
  readonly maxSendMessageBytes: number;
  private readonly userAgent: string;
  private readonly log: (line: string) => void;
  private readonly session: ClientHttp2Session;
  private readonly duplex: Duplex;
  private readonly closed: Promise<void>;
  private end: SessionEnd | undefined;
  private goawayLastStreamId: number | undefined;
  /** Calls not yet settled, for close(). */
  private readonly pending = new Set<Promise<unknown>>();

  /** The frontend's connection to BuildKit: gRPC on process.stdin/process.stdout. */
  static overStdio(options: StdioClientOptions = {}): GrpcClient {
    return new GrpcClient(stdioDuplex(options.stdio), options);
  }

  /** A client over any connected byte stream (a socket, a pipe pair). */
  static over(duplex: Duplex, options: GrpcClientOptions = {}): GrpcClient {
    return new GrpcClient(duplex, options);
  }

  private constructor(duplex: Duplex, options: GrpcClientOptions) {
    this.maxReceiveMessageBytes = options.maxReceiveMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    this.maxSendMessageBytes = options.maxSendMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    this.userAgent = options.userAgent ?? DEFAULT_USER_AGENT;
    this.duplex = duplex;
    const log = options.log;
    this.log =
      typeof log === 'function'
        ? log
        : log === true
          ? (line) => process.stderr.write(`goci grpc: ${line}\n`)
          : () => {};

    this.session = http2.connect('http://localhost', {
      createConnection: () => duplex,
      settings: {
        enablePush: false,
        initialWindowSize: STREAM_WINDOW_BYTES,
        maxHeaderListSize: MAX_HEADER_LIST_BYTES,
      },
      maxSessionMemory: SESSION_MEMORY_MB,
    });
    const session = this.session;
    session.once('connect', () => {
      session.setLocalWindowSize(CONNECTION_WINDOW_BYTES);
      this.log('connected');
    });
    session.on('remoteSettings', (settings) => this.log(`server settings ${JSON.stringify(settings)}`));
    session.on('error', (error: Error) => {
      this.log(`connection error: ${error.message}`);
      this.end ??= { reason: `the connection failed: ${error.message}`, cause: error };
    });
    session.on('frameError', (type: number, code: number, id: number) => {
      this.log(`could not send frame type ${type} on stream ${id}: ${http2ErrorName(code)}`);
    });
    session.on('goaway', (errorCode: number, lastStreamID: number) => {
      this.log(`GOAWAY ${http2ErrorName(errorCode)}, last stream ${lastStreamID}`);
      // A later GOAWAY can only lower the last accepted stream.
      this.goawayLastStreamId = Math.min(this.goawayLastStreamId ?? lastStreamID, lastStreamID);
      const detail = errorCode === http2.constants.NGHTTP2_NO_ERROR ? '' : ` with ${http2ErrorName(errorCode)}`;
      this.end ??= { reason: `the server is closing the connection (GOAWAY${detail})` };
    });
    this.closed = new Promise((resolve) => {
      session.once('close', () => {
        this.log('connection closed');
        this.end ??= { reason: 'the connection is closed' };
        resolve();
      });
    });
  }

  /**
   * One unary call: `request` is the serialized request message, the result the serialized
   * response. Fails with GrpcError only. Calls may run concurrently on the one connection.
   */
  unary(path: string, request: Uint8Array, options: UnaryOptions = {}): Promise<Uint8Array> {
    // While stdin is paused for backpressure it is no active handle, so an answer being awaited
    // would not keep the process alive: Node could exit mid-call. A pending call holds a timer.
    const alive = setInterval(() => undefined, 1 << 30);
    const call = this.call(path, request, options).finally(() => clearInterval(alive));
    this.pending.add(call);
    const forget = () => this.pending.delete(call);
    call.then(forget, forget);
    return call;
  }

  private call(path: string, request: Uint8Array, options: UnaryOptions): Promise<Uint8Array> {
    return new Promise<Uint8Array>((resolve, reject) => {
      const fail = (code: number, message: string, cause?: unknown) =>
        reject(new GrpcError(code, message, { path, ...(cause === undefined ? {} : { cause }) }));

      if (!path.startsWith('/'))
        return fail(
          GrpcCode.INTERNAL,
          `invalid gRPC method path "${path}" (it must look like /package.Service/Method)`,
        );
      if (this.end !== undefined || this.session.closed || this.session.destroyed) {
        return fail(
          GrpcCode.UNAVAILABLE,
          `cannot call ${path}: ${this.end?.reason ?? 'the connection is closed'}`,
          this.end?.cause,
        );
      }
      if (request.length > this.maxSendMessageBytes) {
        return fail(
          GrpcCode.RESOURCE_EXHAUSTED,
          `cannot call ${path}: the request is larger than the maximum (${request.length} vs. ${this.maxSendMessageBytes} bytes)`,
        );
      }
      const { timeoutMs } = options;
      if (timeoutMs !== undefined && !(Number.isFinite(timeoutMs) && timeoutMs > 0)) {
        return fail(GrpcCode.INTERNAL, `invalid timeout for ${path}: ${timeoutMs} ms (it must be a positive number)`);
      }

      const headers: OutgoingHttpHeaders = {
        ':method': 'POST',
        ':scheme': 'http',
        ':authority': AUTHORITY,
        ':path': path,
        ...(timeoutMs === undefined ? {} : { 'grpc-timeout': encodeGrpcTimeout(timeoutMs) }),
        'content-type': 'application/grpc',
        te: 'trailers',
        'user-agent': this.userAgent,
      };
      for (const [name, value] of Object.entries(options.metadata ?? {})) {
        const problem = !/^[0-9a-z_.-]+$/.test(name)
          ? 'names are lower-case [0-9a-z_.-]'
          : name.startsWith('grpc-') || RESERVED_METADATA.has(name)
            ? 'the name is reserved'
            : !name.endsWith('-bin') && !/^[\x20-\x7e]*$/.test(value)
              ? 'values are printable ASCII (use a -bin name for bytes)'
              : undefined;
        if (problem !== undefined) return fail(GrpcCode.INTERNAL, `invalid metadata "${name}" for ${path}: ${problem}`);
        headers[name] = value;
      }

      let stream: ClientHttp2Stream;
      try {
        stream = this.session.request(headers, { endStream: false });
      } catch (error) {
        return fail(GrpcCode.UNAVAILABLE, `cannot call ${path}: ${describeError(error)}`, error);
      }

      const started = Date.now();
      const decoder = new MessageDecoder({ maxMessageBytes: this.maxReceiveMessageBytes });
      const messages: Uint8Array[] = [];
      let responseHeaders: IncomingHttpHeaders | undefined;
      let trailers: IncomingHttpHeaders | undefined;
      let streamError: Error | undefined;
      let streamId: number | undefined;
      /** False once the response headers show a non-gRPC response, whose body is not decoded. */
      let grpcBody = true;
      let protocolError: GrpcError | undefined;
      let settled = false;
      let timer: NodeJS.Timeout | undefined;

      const settle = (error: GrpcError | undefined, response?: Uint8Array) => {
        if (settled) return;
        settled = true;
        if (timer !== undefined) clearTimeout(timer);
        const took = `${Date.now() - started} ms`;
        if (error === undefined) {
          this.log(`<- ${path} OK, ${response!.length} bytes, ${took}`);
          resolve(response!);
        } else {
          this.log(`<- ${path} ${error.name}: ${error.message} (${took})`);
          reject(error);
        }
      };
      const abandon = (error: GrpcError) => {
        settle(error);
        if (!stream.closed) stream.close(http2.constants.NGHTTP2_CANCEL);
      };

      if (timeoutMs !== undefined) {
        timer = setTimeout(() => {
          abandon(
            new GrpcError(
              GrpcCode.DEADLINE_EXCEEDED,
              `deadline exceeded: ${path} did not complete within ${timeoutMs} ms`,
              { path },
            ),
          );
        }, timeoutMs);
      }

      const sent = () => {
        streamId = stream.id;
        this.log(
          `-> ${path} on stream ${streamId}, ${request.length} bytes${timeoutMs === undefined ? '' : `, timeout ${timeoutMs} ms`}`,
        );
      };
      // The stream gets its id at once on a connected session, on 'ready' otherwise.
      if (stream.id !== undefined) sent();
      else stream.once('ready', sent);
      stream.on('response', (received: IncomingHttpHeaders) => {
        responseHeaders = received;
        grpcBody = statusFromResponse(received, { 'grpc-status': '0' }).code === GrpcCode.OK;
      });
      stream.on('trailers', (received: IncomingHttpHeaders) => {
        trailers = received;
      });
      stream.on('data', (chunk: Buffer) => {
        if (protocolError !== undefined || !grpcBody) return;
        try {
          messages.push(...decoder.push(chunk));
          if (messages.length > 1) {
            protocolError = new GrpcError(
              GrpcCode.INTERNAL,
              `the server sent more than one response message for the unary call ${path}`,
              { path },
            );
          }
        } catch (error) {
          const cause = error as GrpcError;
          protocolError = new GrpcError(cause.code, `${cause.message} in the response to ${path}`, { path });
        }
        if (protocolError !== undefined) abandon(protocolError);
      });
      stream.on('error', (error: Error) => {
        streamError ??= error;
      });
      stream.on('close', () => {
        if (settled) return;
        const status = responseHeaders === undefined ? undefined : responseHeaders[':status'];
        const final =
          trailers !== undefined ||
          (responseHeaders !== undefined && (responseHeaders['grpc-status'] !== undefined || Number(status) !== 200));
        const connectionGone = this.end !== undefined || this.session.closed || this.session.destroyed;
        const endedCleanly =
          responseHeaders !== undefined &&
          stream.rstCode === http2.constants.NGHTTP2_NO_ERROR &&
          streamError === undefined;
        if (!final && (connectionGone || !endedCleanly))
          return settle(this.brokenCall(path, streamId, stream.rstCode, streamError));
        // A status from the server, or (ended cleanly without one) the INTERNAL error for its absence.
        const result = statusFromResponse(responseHeaders, trailers);
        if (result.code !== GrpcCode.OK) return settle(errorFromStatus(result, path));
        try {
          decoder.end();
        } catch (error) {
          return settle(
            new GrpcError(GrpcCode.INTERNAL, `${(error as GrpcError).message} in the response to ${path}`, { path }),
          );
        }
        if (messages.length === 0) {
          return settle(
            new GrpcError(GrpcCode.INTERNAL, `the server sent status OK but no response message for ${path}`, { path }),
          );
        }
        return settle(undefined, messages[0]);
      });

      stream.end(encodeMessage(request));
    });
  }

  /** The error for a call whose stream ended without a status. */
  private brokenCall(
    path: string,
    streamId: number | undefined,
    rstCode = http2.constants.NGHTTP2_NO_ERROR,
    streamError: Error | undefined,
  ): GrpcError {
    const cause = streamError ?? this.end?.cause;
    const options = { path, ...(cause === undefined ? {} : { cause }) };
    if (this.goawayLastStreamId !== undefined && (streamId === undefined || streamId > this.goawayLastStreamId)) {
      return new GrpcError(
        GrpcCode.UNAVAILABLE,
        `the server did not accept ${path}: ${this.end?.reason ?? 'it sent GOAWAY'}`,
        options,
      );
    }
    if (this.end !== undefined || this.session.destroyed || this.session.closed) {
      const reason = this.end?.reason ?? 'the connection is closed';
      return new GrpcError(GrpcCode.UNAVAILABLE, `the connection ended before ${path} completed: ${reason}`, options);
    }
    return new GrpcError(
      codeForRstStream(rstCode),
      `the server reset the stream of ${path} with ${http2ErrorName(rstCode)}`,
      options,
    );
  }

  /**
   * Closes the connection: GOAWAY is sent and new calls fail with UNAVAILABLE at once; calls in
   * flight run to their end (give them a timeout if the server might never answer); then our side
   * of the stream is ended (flushed) and the stream destroyed without waiting for the server to
   * hang up, so stdin no longer keeps the process alive. Resolves once the session is closed.
   *
   * A BuildKit frontend must not close before it exits: BuildKit treats its connection ending
   * while the process still runs as a crash ("frontend grpc server closed unexpectedly") and
   * discards the result already returned.
   */
  async close(): Promise<void> {
    this.end ??= { reason: 'the client was closed' };
    // GOAWAY (no error), no new streams; node:http2 destroys the session once the last stream
    // closed and everything is written, then ends our side of the stream.
    if (!this.session.closed && !this.session.destroyed) this.session.close();
    await Promise.allSettled([...this.pending]);
    // It then waits for the peer to close its side too. A Go server does at EOF, node:http2 servers
    // may not: once our bytes are flushed there is nothing left to wait for, so close the stream
    // ourselves. Should the graceful path stall, destroy the session after CLOSE_GRACE_MS.
    const flushed = finished(this.duplex, { readable: false }).catch(() => undefined);
    let timer: NodeJS.Timeout | undefined;
    const stalled = new Promise<'stalled'>((resolve) => {
      timer = setTimeout(() => resolve('stalled'), CLOSE_GRACE_MS);
    });
    if ((await Promise.race([this.closed, flushed, stalled])) === 'stalled') {
      this.log(`the graceful close stalled for ${CLOSE_GRACE_MS} ms: destroying the connection`);
      this.session.destroy();
    }
    clearTimeout(timer);
    if (!this.duplex.destroyed) this.duplex.destroy();
    await this.closed;
  }
}
