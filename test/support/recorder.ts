import { createServer, request as httpRequest, type OutgoingHttpHeaders } from 'node:http';
import { listenOnLoopback } from './loopback.js';

/**
 * A second loopback origin for credential tests: it stands for a host other than the registry
 * (blob storage behind an upload Location or a redirect). It records what each request carried
 * (the Authorization header above all) and forwards it to the registry with the authorization
 * `authorize` gives, as storage that trusts its signed URL would accept the request.
 */
export interface RecordedRequest {
  method: string;
  /** Path and query. */
  url: string;
  authorization: string | undefined;
  status: number;
}

export interface Recorder {
  /** `http://127.0.0.1:PORT`. */
  url: string;
  records: RecordedRequest[];
  stop(): Promise<void>;
}

/** An answer the recorder gives itself instead of forwarding (`{origin}` in a header is its own URL). */
export interface OwnAnswer {
  status: number;
  headers?: Record<string, string>;
  body?: string;
}

export async function startRecorder(
  upstream: string,
  authorize: (method: string, path: string) => Promise<string | undefined>,
  answer: (method: string, path: string) => OwnAnswer | undefined = () => undefined,
): Promise<Recorder> {
  const target = new URL(upstream);
  const records: RecordedRequest[] = [];
  let origin = '';
  const server = createServer((request, response) => {
    const record: RecordedRequest = {
      method: request.method ?? 'GET',
      url: request.url ?? '/',
      authorization: typeof request.headers.authorization === 'string' ? request.headers.authorization : undefined,
      status: 0,
    };
    records.push(record);
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.once('end', () => {
      const own = answer(record.method, new URL(record.url, origin).pathname);
      if (own) {
        record.status = own.status;
        const named = (value: string): string => value.split('{origin}').join(origin);
        const entries = Object.entries(own.headers ?? {}).map(([name, value]) => [name, named(value)]);
        const length = String(Buffer.byteLength(own.body ?? ''));
        response.writeHead(own.status, { ...Object.fromEntries(entries), 'content-length': length });
        response.end(own.body ?? '');
        return;
      }
      void (async () => {
        const headers: OutgoingHttpHeaders = { ...request.headers, host: target.host };
        delete headers.authorization;
        const authorization = await authorize(record.method, new URL(record.url, origin).pathname);
        if (authorization) headers.authorization = authorization;
        const options = { host: target.hostname, port: target.port, method: record.method, path: record.url, headers };
        const upstreamRequest = httpRequest(options, (upstreamResponse) => {
          record.status = upstreamResponse.statusCode ?? 0;
          const answer: OutgoingHttpHeaders = { ...upstreamResponse.headers };
          // Relative Locations stay on this origin; absolute ones naming the registry are made so.
          if (typeof answer.location === 'string') answer.location = answer.location.split(target.origin).join(origin);
          response.writeHead(record.status, answer);
          upstreamResponse.pipe(response);
        });
        upstreamRequest.once('error', () => {
          record.status = 502;
          if (!response.headersSent) response.writeHead(502).end();
          else response.destroy();
        });
        upstreamRequest.end(Buffer.concat(chunks));
      })();
    });
  });
  const loopback = await listenOnLoopback(server);
  origin = loopback.origin;
  return { url: origin, records, stop: loopback.close };
}
