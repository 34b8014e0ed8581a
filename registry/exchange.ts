import { Agent as HttpAgent, request as httpRequest, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { type Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/**
 * One HTTP request and its response head, on Node's http and https modules. Not fetch: Node
 * loads fetch's implementation (undici) on first use, which cost 25–40 ms of every run that
 * talks to a registry here; Node's http module is loaded already.
 */

/** A response's headers, read as fetch's Headers reads them: by lowercase name, repeats joined by `, `. */
export class ResponseHeaders {
  constructor(private readonly raw: IncomingMessage['headers']) {}

  get(name: string): string | null {
    const value = this.raw[name.toLowerCase()];
    if (value === undefined) return null;
    return Array.isArray(value) ? value.join(', ') : value;
  }

  has(name: string): boolean {
    return this.raw[name.toLowerCase()] !== undefined;
  }
}

export interface ExchangeRequest {
  method: string;
  url: URL;
  headers: Record<string, string>;
  /** Bytes, or a stream that is sent as it is read. */
  body: Uint8Array | string | Readable | undefined;
  signal: AbortSignal;
  /** Called whenever a byte of the request goes out or of the response comes in: the idle timer. */
  touch: () => void;
}

export interface ExchangeResponse {
  status: number;
  headers: ResponseHeaders;
  /** The body as it arrives; `discard` lets go of it when it was not read to the end. */
  body: Readable;
  discard(): void;
}

/** Connections are kept open between requests of a run, as fetch kept them. */
const agents = { 'http:': new HttpAgent({ keepAlive: true }), 'https:': new HttpsAgent({ keepAlive: true }) };

/** Bodies up to this size are read off and dropped, so their connection can serve the next request. */
const DRAINED_BYTES = 64 * 1024;

/** A stream that passes every chunk on and says it moved. */
function touching(touch: () => void): Transform {
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      touch();
      callback(null, chunk);
    },
  });
}

/** Sends the request and resolves with the response head; fails as the request or the connection fails. */
export function exchange(request: ExchangeRequest): Promise<ExchangeResponse> {
  const { url } = request;
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  const agent = url.protocol === 'https:' ? agents['https:'] : agents['http:'];
  const headers: OutgoingHttpHeaders = { ...request.headers };
  const { body } = request;
  const bytes = typeof body === 'string' || body instanceof Uint8Array;
  if (bytes && !Object.keys(headers).some((name) => name.toLowerCase() === 'content-length'))
    headers['content-length'] = Buffer.byteLength(body);
  return new Promise<ExchangeResponse>((resolve, reject) => {
    const outgoing = send(url, { method: request.method, headers, agent, signal: request.signal });
    // Once the response is there its own stream carries a failure; a later error here is the same one.
    outgoing.on('error', reject);
    outgoing.once('response', (response: IncomingMessage) => {
      request.touch();
      const passed = touching(request.touch);
      // Errors of the response (a reset, the idle timer's abort) reach whoever reads the body.
      pipeline(response, passed).catch(() => undefined);
      const discard = (): void => {
        if (passed.readableEnded || passed.destroyed) return;
        const length = Number(response.headers['content-length']);
        const small = Number.isFinite(length) && length <= DRAINED_BYTES;
        if (request.method === 'HEAD' || response.complete || small) passed.resume();
        else response.destroy();
      };
      resolve({
        status: response.statusCode ?? 0,
        headers: new ResponseHeaders(response.headers),
        body: passed,
        discard,
      });
    });
    if (body === undefined || bytes) outgoing.end(body);
    else pipeline(body, touching(request.touch), outgoing).catch((error: unknown) => outgoing.destroy(error as Error));
  });
}
