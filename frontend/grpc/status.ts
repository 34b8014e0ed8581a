/**
 * gRPC call status: the codes, the error type the client raises, and how a response's HTTP/2
 * headers and trailers become a status (gRPC over HTTP/2, "Responses").
 *
 * A response is either `Response-Headers *Message Trailers` or `Trailers-Only` (one HEADERS frame
 * with END_STREAM carrying :status, content-type and grpc-status). `grpc-message` is UTF-8,
 * percent-encoded. A non-200 :status, a missing grpc-status or a foreign content-type must be turned
 * into a synthesized status rather than trusted.
 */
import { STATUS_CODES } from 'node:http';
/** Response headers or trailers as node:http2 delivers them (`:status` is a number). */
export type IncomingHttpHeaders = Record<string, string | string[] | number | undefined>;

/** The canonical gRPC status codes, indexed by their number. */
export const GRPC_CODE_NAMES = [
  'OK',
  'CANCELLED',
  'UNKNOWN',
  'INVALID_ARGUMENT',
  'DEADLINE_EXCEEDED',
  'NOT_FOUND',
  'ALREADY_EXISTS',
  'PERMISSION_DENIED',
  'RESOURCE_EXHAUSTED',
  'FAILED_PRECONDITION',
  'ABORTED',
  'OUT_OF_RANGE',
  'UNIMPLEMENTED',
  'INTERNAL',
  'UNAVAILABLE',
  'DATA_LOSS',
  'UNAUTHENTICATED',
] as const;

export type GrpcCodeName = (typeof GRPC_CODE_NAMES)[number];

/** `GrpcCode.NOT_FOUND === 5`, and so on. */
export const GrpcCode = Object.freeze(
  Object.fromEntries(GRPC_CODE_NAMES.map((name, code) => [name, code])) as { readonly [N in GrpcCodeName]: number },
);

export interface GrpcErrorOptions {
  /** The :status of the response when it was not 200. */
  httpStatus?: number;
  /** The method path of the call, e.g. `/moby.buildkit.v1.frontend.LLBBridge/Solve`. */
  path?: string;
  /** The raw bytes of `grpc-status-details-bin` (a google.rpc.Status message), when the server sent one. */
  details?: Uint8Array;
  /** Every other trailer (or trailers-only header) the server sent, by lower-case name. */
  metadata?: Record<string, string>;
  cause?: unknown;
}

/**
 * A failed gRPC call. `code` is the numeric status, `name` its canonical name (`NOT_FOUND`, …) and
 * `message` the server's decoded grpc-message, or a sentence goci wrote when the status was
 * synthesized (HTTP errors, broken streams, deadlines).
 */
export class GrpcError extends Error {
  readonly code: number;
  override readonly name: GrpcCodeName;
  readonly httpStatus: number | undefined;
  readonly path: string | undefined;
  readonly details: Uint8Array | undefined;
  readonly metadata: Record<string, string>;

  constructor(code: number, message: string, options: GrpcErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    const known = Number.isInteger(code) && code >= 0 && code < GRPC_CODE_NAMES.length;
    this.code = known ? code : GrpcCode.UNKNOWN;
    this.name = GRPC_CODE_NAMES[this.code]!;
    this.httpStatus = options.httpStatus;
    this.path = options.path;
    this.details = options.details;
    this.metadata = options.metadata ?? {};
  }
}

export function isGrpcError(value: unknown): value is GrpcError {
  return value instanceof GrpcError;
}

export function grpcCodeName(code: number): GrpcCodeName {
  return GRPC_CODE_NAMES[code] ?? 'UNKNOWN';
}

function isHexDigit(byte: number): boolean {
  return (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x46) || (byte >= 0x61 && byte <= 0x66);
}

const UTF8 = new TextDecoder('utf-8', { fatal: false });

/**
 * Decodes a grpc-message value: `%XX` sequences are bytes, the result is UTF-8. Broken escapes are
 * kept as they are (the protocol forbids throwing the message away), invalid UTF-8 becomes U+FFFD.
 * Header values reach us as one-byte-per-character strings, so a server that sent raw UTF-8 instead
 * of escaping it is read correctly too.
 */
export function decodeGrpcMessage(value: string): string {
  const raw = Buffer.from(value, 'latin1');
  const out = Buffer.allocUnsafe(raw.length);
  let length = 0;
  for (let i = 0; i < raw.length; i++) {
    const byte = raw[i]!;
    if (byte === 0x25 && i + 2 < raw.length && isHexDigit(raw[i + 1]!) && isHexDigit(raw[i + 2]!)) {
      out[length++] = Number.parseInt(String.fromCharCode(raw[i + 1]!, raw[i + 2]!), 16);
      i += 2;
    } else {
      out[length++] = byte;
    }
  }
  return UTF8.decode(out.subarray(0, length));
}

/** Encodes a message for grpc-message: UTF-8, with `%` and every byte outside 0x20–0x7E escaped. */
export function encodeGrpcMessage(message: string): string {
  let out = '';
  for (const byte of Buffer.from(message, 'utf8')) {
    if (byte >= 0x20 && byte <= 0x7e && byte !== 0x25) out += String.fromCharCode(byte);
    else out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/**
 * The gRPC code for a non-200 HTTP status, as gRPC's "HTTP to gRPC Status Code Mapping" document
 * defines it: 400 INTERNAL, 401 UNAUTHENTICATED, 403 PERMISSION_DENIED, 404 UNIMPLEMENTED,
 * 429/502/503/504 UNAVAILABLE, anything else UNKNOWN.
 */
export function codeForHttpStatus(status: number): number {
  switch (status) {
    case 400:
      return GrpcCode.INTERNAL;
    case 401:
      return GrpcCode.UNAUTHENTICATED;
    case 403:
      return GrpcCode.PERMISSION_DENIED;
    case 404:
      return GrpcCode.UNIMPLEMENTED;
    case 429:
    case 502:
    case 503:
    case 504:
      return GrpcCode.UNAVAILABLE;
    default:
      return GrpcCode.UNKNOWN;
  }
}

function single(value: string | string[] | number | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (Array.isArray(value)) return value.join(',');
  return String(value);
}

/** The headers that are not metadata (pseudo-headers and the ones the protocol itself defines). */
const PROTOCOL_HEADERS = new Set([
  'content-type',
  'grpc-status',
  'grpc-message',
  'grpc-status-details-bin',
  'grpc-encoding',
  'grpc-accept-encoding',
]);

function metadataOf(headers: IncomingHttpHeaders): Record<string, string> {
  const metadata: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (name.startsWith(':') || PROTOCOL_HEADERS.has(name)) continue;
    const text = single(value);
    if (text !== undefined) metadata[name] = text;
  }
  return metadata;
}

function base64Bytes(value: string): Uint8Array {
  // The protocol allows padded and unpadded base64; Node's decoder takes both.
  return new Uint8Array(Buffer.from(value, 'base64'));
}

export interface ResponseStatus {
  code: number;
  name: GrpcCodeName;
  message: string;
  httpStatus: number | undefined;
  details: Uint8Array | undefined;
  metadata: Record<string, string>;
}

/**
 * The status of a finished call from what the server sent: the response headers and, unless the
 * response was trailers-only, the trailers. `trailers` undefined with a grpc-status in `headers`
 * is a trailers-only response. Returns a status that is OK only when the server said so over a
 * well-formed gRPC response.
 */
export function statusFromResponse(
  headers: IncomingHttpHeaders | undefined,
  trailers: IncomingHttpHeaders | undefined,
): ResponseStatus {
  const result = (
    code: number,
    message: string,
    from: IncomingHttpHeaders | undefined,
    httpStatus?: number,
  ): ResponseStatus => {
    const details = from === undefined ? undefined : single(from['grpc-status-details-bin']);
    return {
      code,
      name: grpcCodeName(code),
      message,
      httpStatus,
      details: details === undefined ? undefined : base64Bytes(details),
      metadata: from === undefined ? {} : metadataOf(from),
    };
  };

  if (headers === undefined) {
    return result(GrpcCode.INTERNAL, 'the server sent no response headers', undefined);
  }
  const httpStatus = Number(single(headers[':status']));
  if (httpStatus !== 200) {
    const reason = STATUS_CODES[httpStatus];
    const label = reason === undefined ? `${httpStatus}` : `${httpStatus} (${reason})`;
    return result(
      codeForHttpStatus(httpStatus),
      `the server answered with HTTP status ${label} instead of 200`,
      headers,
      httpStatus,
    );
  }
  const contentType = single(headers['content-type']);
  if (contentType === undefined || !/^application\/grpc([+;].*)?$/.test(contentType)) {
    const shown = contentType === undefined ? 'no content-type' : `content-type "${contentType}"`;
    return result(GrpcCode.INTERNAL, `the server answered with ${shown} instead of application/grpc`, headers);
  }
  const source = trailers ?? headers;
  const rawStatus = single(source['grpc-status']);
  if (rawStatus === undefined) {
    const what = trailers === undefined ? 'the response ended without trailers' : 'the trailers have no grpc-status';
    return result(GrpcCode.INTERNAL, `${what} (missing grpc-status)`, source);
  }
  if (!/^[0-9]+$/.test(rawStatus)) {
    return result(GrpcCode.INTERNAL, `malformed grpc-status "${rawStatus}"`, source);
  }
  const rawMessage = single(source['grpc-message']);
  const message = rawMessage === undefined ? '' : decodeGrpcMessage(rawMessage);
  const code = Number(rawStatus);
  if (code >= GRPC_CODE_NAMES.length) {
    return result(GrpcCode.UNKNOWN, `unknown grpc-status ${code}${message === '' ? '' : `: ${message}`}`, source);
  }
  return result(code, message, source);
}

/** A GrpcError for a non-OK status. */
export function errorFromStatus(status: ResponseStatus, path?: string): GrpcError {
  return new GrpcError(status.code, status.message, {
    ...(status.httpStatus === undefined ? {} : { httpStatus: status.httpStatus }),
    ...(path === undefined ? {} : { path }),
    ...(status.details === undefined ? {} : { details: status.details }),
    metadata: status.metadata,
  });
}
