import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import http2, {
  type IncomingHttpHeaders,
  type OutgoingHttpHeaders,
  type ServerHttp2Session,
  type ServerHttp2Stream,
} from 'node:http2';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Duplex, PassThrough, Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { DEFAULT_USER_AGENT, encodeGrpcTimeout, GrpcClient, type GrpcClientOptions } from '../frontend/grpc/client.js';
import { DEFAULT_MAX_MESSAGE_BYTES, encodeMessage, MessageDecoder } from '../frontend/grpc/framing.js';
import {
  decodeGrpcMessage,
  encodeGrpcMessage,
  GrpcCode,
  GrpcError,
  statusFromResponse,
} from '../frontend/grpc/status.js';
import { StdioDuplex } from '../frontend/grpc/stdio.js';
import { found } from '../common/found.js';

const SOLVE = '/moby.buildkit.v1.frontend.LLBBridge/Solve';
const bytes = (...values: number[]) => Uint8Array.from(values);
const text = (value: string) => new Uint8Array(Buffer.from(value, 'utf8'));
const hex = (value: Uint8Array) => Buffer.from(value).toString('hex');

/** Expects `promise` to reject with a GrpcError of exactly this code, name and message. */
async function rejectsWith(promise: Promise<unknown>, code: number, name: string, message: string): Promise<GrpcError> {
  const error = await promise.then(
    () => assert.fail(`expected ${name}: ${message}`),
    (reason: unknown) => reason,
  );
  assert.ok(error instanceof GrpcError, `not a GrpcError: ${String(error)}`);
  assert.deepEqual({ code: error.code, name: error.name, message: error.message }, { code, name, message });
  return error;
}

// ---------------------------------------------------------------------------------------------
// A gRPC server on node:http2, written independently of the client (its own framing code).
// ---------------------------------------------------------------------------------------------

interface ReceivedCall {
  path: string;
  headers: IncomingHttpHeaders;
  request: Uint8Array;
  stream: ServerHttp2Stream;
  session: ServerHttp2Session;
}
type Handler = (call: ReceivedCall) => void | Promise<void>;

function frame(message: Uint8Array, flag = 0): Buffer {
  const out = Buffer.alloc(5 + message.length);
  out[0] = flag;
  out.writeUInt32BE(message.length, 1);
  out.set(message, 5);
  return out;
}

/** Every response carries this date, so that metadata can be compared exactly. */
const DATE = 'Thu, 01 Jan 2026 00:00:00 GMT';

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

async function writeInPieces(stream: ServerHttp2Stream, data: Buffer, pieceSize: number): Promise<void> {
  for (let offset = 0; offset < data.length; offset += pieceSize) {
    await new Promise<void>((resolve, reject) =>
      stream.write(data.subarray(offset, offset + pieceSize), (error) => (error ? reject(error) : resolve())),
    );
    if (pieceSize < data.length) await nextTurn();
  }
}

/** 200, the body, then trailers (grpc-status 0 unless `trailers` says otherwise). */
async function reply(
  stream: ServerHttp2Stream,
  body: Buffer,
  options: { pieceSize?: number; trailers?: OutgoingHttpHeaders } = {},
): Promise<void> {
  stream.respond({ ':status': 200, 'content-type': 'application/grpc', date: DATE }, { waitForTrailers: true });
  stream.once('wantTrailers', () => stream.sendTrailers(options.trailers ?? { 'grpc-status': '0' }));
  await writeInPieces(stream, body, options.pieceSize ?? (body.length || 1));
  stream.end();
}

/** A trailers-only response: one HEADERS frame with END_STREAM. */
function trailersOnly(
  stream: ServerHttp2Stream,
  code: number,
  message?: string,
  extra: OutgoingHttpHeaders = {},
): void {
  stream.respond(
    {
      ':status': 200,
      'content-type': 'application/grpc',
      date: DATE,
      'grpc-status': String(code),
      ...(message === undefined ? {} : { 'grpc-message': message }),
      ...extra,
    },
    { endStream: true },
  );
}

class TestServer {
  readonly http2 = http2.createServer();
  readonly calls: ReceivedCall[] = [];
  readonly sessions: ServerHttp2Session[] = [];
  readonly resets: Array<{ path: string; rstCode: number | undefined }> = [];

  constructor(readonly handlers: Record<string, Handler>) {
    this.http2.on('session', (session) => {
      this.sessions.push(session);
      session.on('error', () => {});
    });
    this.http2.on('stream', (stream, headers) => {
      const path = String(headers[':path']);
      const chunks: Buffer[] = [];
      stream.on('error', () => {});
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('close', () => {
        if (stream.rstCode !== http2.constants.NGHTTP2_NO_ERROR) this.resets.push({ path, rstCode: stream.rstCode });
      });
      stream.on('end', () => {
        const body = Buffer.concat(chunks);
        assert.equal(body[0], 0, 'request compressed flag');
        assert.equal(body.readUInt32BE(1), body.length - 5, 'request length prefix');
        const call: ReceivedCall = {
          path,
          headers,
          request: new Uint8Array(body.subarray(5)),
          stream,
          session: stream.session as ServerHttp2Session,
        };
        this.calls.push(call);
        const handler = this.handlers[path];
        if (handler === undefined) {
          trailersOnly(stream, GrpcCode.UNIMPLEMENTED, encodeGrpcMessage(`unknown method ${path}`));
          return;
        }
        Promise.resolve(handler(call)).catch((error: unknown) => {
          if (!stream.destroyed) stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
          console.error('test handler failed', error);
        });
      });
    });
  }

  accept(socket: Duplex): void {
    this.http2.emit('connection', socket);
  }
}

// ---------------------------------------------------------------------------------------------
// Connections: a real unix socket pair; HTTP/2 frame parsing for what went over the wire.
// ---------------------------------------------------------------------------------------------

let directory: string;
let socketCount = 0;

before(async () => {
  directory = await mkdtemp(join(tmpdir(), 'goci-test-grpc-'));
});
after(async () => {
  await rm(directory, { recursive: true, force: true });
});

async function socketPair(): Promise<{ client: net.Socket; server: net.Socket }> {
  const path = join(directory, `${++socketCount}.sock`);
  const listener = net.createServer();
  listener.listen(path);
  await once(listener, 'listening');
  const accepted = once(listener, 'connection') as Promise<[net.Socket]>;
  const client = net.connect(path);
  await once(client, 'connect');
  const [server] = await accepted;
  listener.close();
  return { client, server };
}

interface Connected {
  client: GrpcClient;
  server: TestServer;
  sockets: { client: net.Socket; server: net.Socket };
  /** Every byte the server sent the client, when `tap` was asked for. */
  received: Buffer[];
  done(): Promise<void>;
}

async function connect(
  handlers: Record<string, Handler>,
  options: GrpcClientOptions & { tap?: boolean } = {},
): Promise<Connected> {
  const sockets = await socketPair();
  const server = new TestServer(handlers);
  server.accept(sockets.server);
  const received: Buffer[] = [];
  let client: GrpcClient;
  if (options.tap) {
    // Through StdioDuplex (the stdio code path, JS stream instead of a native socket), with a
    // second 'data' listener recording the server's bytes.
    sockets.client.on('data', (chunk: Buffer) => received.push(chunk));
    client = GrpcClient.over(new StdioDuplex({ input: sockets.client, output: sockets.client }), options);
  } else {
    client = GrpcClient.over(sockets.client, options);
  }
  return {
    client,
    server,
    sockets,
    received,
    async done() {
      await client.close();
      sockets.client.destroy();
      sockets.server.destroy();
    },
  };
}

interface Frame {
  type: number;
  flags: number;
  streamId: number;
  payload: Buffer;
}

const FRAME_TYPES = [
  'DATA',
  'HEADERS',
  'PRIORITY',
  'RST_STREAM',
  'SETTINGS',
  'PUSH_PROMISE',
  'PING',
  'GOAWAY',
  'WINDOW_UPDATE',
  'CONTINUATION',
];
const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

/** Splits a byte stream into HTTP/2 frames; fails on anything that is not exactly frames. */
function parseFrames(data: Buffer): Frame[] {
  const frames: Frame[] = [];
  let offset = 0;
  while (offset < data.length) {
    assert.ok(data.length - offset >= 9, `${data.length - offset} trailing bytes are not a frame header`);
    const length = data.readUIntBE(offset, 3);
    const type = data[offset + 3]!;
    assert.ok(type < FRAME_TYPES.length, `unknown frame type ${type} at byte ${offset}`);
    assert.ok(offset + 9 + length <= data.length, `frame at byte ${offset} is cut short`);
    frames.push({
      type,
      flags: data[offset + 4]!,
      streamId: data.readUInt32BE(offset + 5) & 0x7fffffff,
      payload: data.subarray(offset + 9, offset + 9 + length),
    });
    offset += 9 + length;
  }
  return frames;
}

// ---------------------------------------------------------------------------------------------
// Framing
// ---------------------------------------------------------------------------------------------

describe('grpc framing', () => {
  const MESSAGES = [bytes(0xde, 0xad), new Uint8Array(0), text('hello gRPC')];
  const BUFFER = Buffer.concat(MESSAGES.map((message) => encodeMessage(message)));

  test('encode: flag 0, big-endian uint32 length, the bytes', () => {
    assert.equal(hex(encodeMessage(bytes(1, 2, 3))), '0000000003010203');
    assert.equal(hex(encodeMessage(new Uint8Array(0))), '0000000000');
    assert.equal(hex(encodeMessage(new Uint8Array(0x01_02_03)).subarray(0, 5)), '0000010203');
    assert.equal(BUFFER.length, 27);
  });

  test('decode: the three messages at once', () => {
    assert.deepEqual(new MessageDecoder().push(BUFFER), MESSAGES);
  });

  test('decode: split at every byte offset (two chunks) gives the same three messages', () => {
    for (let cut = 0; cut <= BUFFER.length; cut++) {
      const decoder = new MessageDecoder();
      const messages = [...decoder.push(BUFFER.subarray(0, cut)), ...decoder.push(BUFFER.subarray(cut))];
      assert.deepEqual(messages, MESSAGES, `cut at ${cut}`);
      assert.equal(decoder.pendingBytes, 0);
      decoder.end();
    }
  });

  test('decode: every pair of cuts (three chunks) and one byte at a time', () => {
    for (let first = 0; first <= BUFFER.length; first++) {
      for (let second = first; second <= BUFFER.length; second++) {
        const decoder = new MessageDecoder();
        const messages = [first, second, BUFFER.length].flatMap((end, i) =>
          decoder.push(BUFFER.subarray([0, first, second][i], end)),
        );
        assert.deepEqual(messages, MESSAGES, `cuts at ${first} and ${second}`);
      }
    }
    const decoder = new MessageDecoder();
    const counts = [...BUFFER].map((byte) => decoder.push(bytes(byte)).length);
    // The messages complete on bytes 7, 12 and 27.
    assert.deepEqual(
      counts.flatMap((count, i) => (count > 0 ? [i + 1] : [])),
      [7, 12, 27],
    );
  });

  test('decode: a cut-off message is reported at the end', () => {
    const decoder = new MessageDecoder();
    assert.deepEqual(decoder.push(BUFFER.subarray(0, 10)), [bytes(0xde, 0xad)]);
    assert.equal(decoder.pendingBytes, 3);
    assert.throws(() => decoder.end(), {
      name: 'INTERNAL',
      code: 13,
      message: 'the stream ended after 3 of the 5 bytes of a message header',
    });
    const body = new MessageDecoder();
    body.push(BUFFER.subarray(12, 20));
    assert.throws(() => body.end(), {
      name: 'INTERNAL',
      code: 13,
      message: 'the stream ended after 3 of the 10 bytes of a message',
    });
  });

  test('decode: a compressed message is refused (no compression is negotiated)', () => {
    const decoder = new MessageDecoder();
    const error = {
      name: 'INTERNAL',
      code: 13,
      message: 'received a compressed message (1 bytes) but no compression was negotiated',
    };
    assert.throws(() => decoder.push(bytes(0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0x61)), error);
    assert.throws(() => decoder.push(bytes(0)), error, 'the decoder stays failed');
    assert.throws(() => new MessageDecoder().push(bytes(2, 0, 0, 0, 0)), {
      name: 'INTERNAL',
      message: 'invalid message flag byte 2 (expected 0)',
    });
  });

  test('decode: messages over the maximum are refused from their header alone', () => {
    assert.equal(DEFAULT_MAX_MESSAGE_BYTES, 67108864);
    assert.deepEqual(new MessageDecoder({ maxMessageBytes: 4 }).push(frame(bytes(1, 2, 3, 4))), [bytes(1, 2, 3, 4)]);
    assert.throws(() => new MessageDecoder({ maxMessageBytes: 4 }).push(bytes(0, 0, 0, 0, 5)), {
      name: 'RESOURCE_EXHAUSTED',
      code: 8,
      message: 'received a message larger than the maximum (5 vs. 4 bytes)',
    });
    assert.throws(() => new MessageDecoder().push(bytes(0, 0xff, 0xff, 0xff, 0xff)), {
      name: 'RESOURCE_EXHAUSTED',
      message: 'received a message larger than the maximum (4294967295 vs. 67108864 bytes)',
    });
  });
});

// ---------------------------------------------------------------------------------------------
// Status
// ---------------------------------------------------------------------------------------------

describe('grpc status', () => {
  test('grpc-message is percent-decoded UTF-8; broken escapes are kept', () => {
    assert.equal(decodeGrpcMessage('caf%C3%A9 100%25 %E2%9C%93 done'), 'café 100% ✓ done');
    assert.equal(decodeGrpcMessage('%zz %4 50%'), '%zz %4 50%');
    assert.equal(decodeGrpcMessage('%FF'), '\ufffd');
    assert.equal(decodeGrpcMessage(Buffer.from('raw é', 'utf8').toString('latin1')), 'raw é');
    assert.equal(encodeGrpcMessage('café 100% ✓\n'), 'caf%C3%A9 100%25 %E2%9C%93%0A');
  });

  test('trailers, trailers-only, HTTP errors, missing and odd statuses', () => {
    const ok = { ':status': 200, 'content-type': 'application/grpc' };
    const summary = (status: ReturnType<typeof statusFromResponse>) => [
      status.code,
      status.name,
      status.message,
      status.httpStatus,
    ];
    assert.deepEqual(summary(statusFromResponse(ok, { 'grpc-status': '0' })), [0, 'OK', '', undefined]);
    assert.deepEqual(
      summary(statusFromResponse({ ...ok, 'grpc-status': '5', 'grpc-message': 'no such ref' }, undefined)),
      [5, 'NOT_FOUND', 'no such ref', undefined],
    );
    assert.deepEqual(summary(statusFromResponse({ ':status': 503 }, undefined)), [
      14,
      'UNAVAILABLE',
      'the server answered with HTTP status 503 (Service Unavailable) instead of 200',
      503,
    ]);
    assert.deepEqual(summary(statusFromResponse({ ':status': 404, 'grpc-status': '0' }, undefined)), [
      12,
      'UNIMPLEMENTED',
      'the server answered with HTTP status 404 (Not Found) instead of 200',
      404,
    ]);
    assert.deepEqual(summary(statusFromResponse({ ':status': 418 }, undefined)), [
      2,
      'UNKNOWN',
      "the server answered with HTTP status 418 (I'm a Teapot) instead of 200",
      418,
    ]);
    assert.deepEqual(summary(statusFromResponse(ok, undefined)), [
      13,
      'INTERNAL',
      'the response ended without trailers (missing grpc-status)',
      undefined,
    ]);
    assert.deepEqual(summary(statusFromResponse(ok, { 'x-other': '1' })), [
      13,
      'INTERNAL',
      'the trailers have no grpc-status (missing grpc-status)',
      undefined,
    ]);
    assert.deepEqual(summary(statusFromResponse({ ':status': 200, 'content-type': 'text/html' }, undefined)), [
      13,
      'INTERNAL',
      'the server answered with content-type "text/html" instead of application/grpc',
      undefined,
    ]);
    assert.deepEqual(summary(statusFromResponse(ok, { 'grpc-status': '17', 'grpc-message': 'x' })), [
      2,
      'UNKNOWN',
      'unknown grpc-status 17: x',
      undefined,
    ]);
    assert.deepEqual(summary(statusFromResponse(ok, { 'grpc-status': 'abc' })), [
      13,
      'INTERNAL',
      'malformed grpc-status "abc"',
      undefined,
    ]);
    const detailed = statusFromResponse(
      { ':status': 200, 'content-type': 'application/grpc+proto' },
      { 'grpc-status': '2', 'grpc-status-details-bin': 'CAIS', 'x-trace': 'abc' },
    );
    assert.deepEqual([detailed.details, detailed.metadata], [bytes(0x08, 0x02, 0x12), { 'x-trace': 'abc' }]);
  });

  test('GrpcError carries the code, its name and the message', () => {
    const error = new GrpcError(GrpcCode.INVALID_ARGUMENT, 'bad platform');
    assert.deepEqual(
      [error.code, error.name, error.message, error instanceof Error],
      [3, 'INVALID_ARGUMENT', 'bad platform', true],
    );
    assert.equal(String(error), 'INVALID_ARGUMENT: bad platform');
    assert.equal(new GrpcError(99, 'x').name, 'UNKNOWN');
  });

  test('grpc-timeout has at most 8 digits and is rounded up', () => {
    assert.deepEqual([1, 1500, 99_999_999, 100_000_000, 100_000_001, 1e13].map(encodeGrpcTimeout), [
      '1m',
      '1500m',
      '99999999m',
      '100000S',
      '100001S',
      '2777778H',
    ]);
    assert.equal(encodeGrpcTimeout(0.2), '1m');
  });
});

// ---------------------------------------------------------------------------------------------
// StdioDuplex
// ---------------------------------------------------------------------------------------------

describe('grpc stdio duplex', () => {
  test('bytes both ways, binary, and a clean end', async () => {
    const input = new PassThrough();
    const output = new PassThrough();
    const duplex = new StdioDuplex({ input, output });
    const written: Buffer[] = [];
    output.on('data', (chunk: Buffer) => written.push(chunk));
    const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    duplex.write(all.subarray(0, 100));
    duplex.end(all.subarray(100));
    await once(output, 'end');
    assert.deepEqual(Buffer.concat(written), all);

    const read: Buffer[] = [];
    duplex.on('data', (chunk: Buffer) => read.push(chunk));
    input.write(all.subarray(200));
    input.end(all.subarray(0, 200));
    await once(duplex, 'end');
    assert.deepEqual(Buffer.concat(read), Buffer.concat([all.subarray(200), all.subarray(0, 200)]));
    assert.equal(input.listenerCount('data'), 0, 'stops listening once both sides ended');
  });

  test('a write completes only when the output took it; input pauses while nobody reads', async () => {
    const pending: Array<() => void> = [];
    const taken: string[] = [];
    const output = new Writable({
      highWaterMark: 1,
      write(chunk: Buffer, _encoding, callback) {
        taken.push(chunk.toString());
        pending.push(() => callback());
      },
    });
    const input = new PassThrough();
    const duplex = new StdioDuplex({ input, output, endOutput: false });
    const done: string[] = [];
    duplex.write('a', () => done.push('a'));
    duplex.write('b', () => done.push('b'));
    await nextTurn();
    assert.deepEqual([taken, done], [['a'], []]);
    pending.shift()!();
    await nextTurn();
    assert.deepEqual([taken, done], [['a', 'b'], ['a']]);
    pending.shift()!();
    await nextTurn();
    assert.deepEqual(done, ['a', 'b']);

    input.write(Buffer.alloc(64 * 1024));
    duplex.read(0);
    await nextTurn();
    assert.equal(input.isPaused(), true, 'input paused: the duplex buffer is full and nobody reads');
    assert.equal(duplex.readableLength, 64 * 1024);
    duplex.resume();
    await nextTurn();
    assert.equal(input.isPaused(), false);
    duplex.destroy();
  });

  test('refuses decoded input; guards the output against other writers', () => {
    const decoded = new PassThrough();
    decoded.setEncoding('utf8');
    assert.throws(() => new StdioDuplex({ input: decoded, output: new PassThrough() }), {
      name: 'TypeError',
      message: 'the gRPC connection input must be in binary mode, but it decodes to utf8',
    });

    const output = new PassThrough();
    const divertTo = new PassThrough();
    const duplex = new StdioDuplex({ input: new PassThrough(), output, guardOutput: true, divertTo });
    output.write('stray text\n');
    duplex.write(bytes(0, 1, 2));
    assert.equal(divertTo.read().toString(), 'stray text\n');
    assert.deepEqual(output.read(), Buffer.from([0, 1, 2]));
    duplex.destroy();
  });
});

// ---------------------------------------------------------------------------------------------
// The client against a real HTTP/2 gRPC server over a unix socket
// ---------------------------------------------------------------------------------------------

describe('grpc client', () => {
  test('a unary call: request and response bytes, and the request headers', async () => {
    const conn = await connect({
      [SOLVE]: (call) => reply(call.stream, frame(bytes(0x12, 0x03, ...call.request))),
    });
    try {
      const response = await conn.client.unary(SOLVE, bytes(0x0a, 0x01, 0x41), {
        timeoutMs: 1500,
        metadata: { 'x-goci': 'yes', 'trace-bin': 'AAEC' },
      });
      assert.deepEqual(response, bytes(0x12, 0x03, 0x0a, 0x01, 0x41));
      assert.equal(conn.server.calls.length, 1);
      const { headers, request } = conn.server.calls[0]!;
      assert.deepEqual(request, bytes(0x0a, 0x01, 0x41));
      assert.deepEqual(Object.fromEntries(Object.entries(headers)), {
        ':method': 'POST',
        ':path': SOLVE,
        ':scheme': 'http',
        ':authority': 'localhost',
        'grpc-timeout': '1500m',
        'content-type': 'application/grpc',
        te: 'trailers',
        'user-agent': DEFAULT_USER_AGENT,
        'x-goci': 'yes',
        'trace-bin': 'AAEC',
      });
      assert.equal(DEFAULT_USER_AGENT, `goci-grpc/1 (node ${process.version})`);
      // An empty request is one 5-byte frame; an empty response message is fine too.
      conn.server.handlers['/t.T/Empty'] = (call) => reply(call.stream, frame(call.request));
      assert.deepEqual(await conn.client.unary('/t.T/Empty', new Uint8Array(0)), new Uint8Array(0));
    } finally {
      await conn.done();
    }
  });

  test('a response split into 1-byte DATA frames', async () => {
    const message = text('split across many DATA frames');
    const conn = await connect(
      { '/t.T/Split': (call) => reply(call.stream, frame(message), { pieceSize: 1 }) },
      { tap: true },
    );
    try {
      assert.deepEqual(await conn.client.unary('/t.T/Split', bytes(7)), message);
      const frames = parseFrames(Buffer.concat(conn.received));
      const data = frames.filter((f) => f.type === 0 && f.streamId === 1);
      assert.equal(message.length + 5, 34);
      assert.deepEqual(
        data.map((f) => f.payload.length),
        Array.from({ length: 34 }, () => 1),
      );
      assert.deepEqual(Buffer.concat(data.map((f) => f.payload)), frame(message));
    } finally {
      await conn.done();
    }
  });

  test('10 MB each way, on a native socket and through StdioDuplex', async () => {
    const big = new Uint8Array(10 * 1024 * 1024);
    for (let i = 0; i < big.length; i++) big[i] = (i * 31 + (i >>> 16)) & 0xff;
    for (const tap of [false, true]) {
      const conn = await connect({ '/t.T/Big': (call) => reply(call.stream, frame(call.request.reverse())) }, { tap });
      try {
        const response = await conn.client.unary('/t.T/Big', big);
        assert.equal(response.length, 10_485_760);
        assert.ok(Buffer.from(response).equals(Buffer.from(big).reverse()), `response bytes (tap ${tap})`);
        assert.equal(conn.server.calls[0]!.request.length, 10_485_760);
      } finally {
        await conn.done();
      }
    }
  });

  test('concurrent calls on one connection each get their own response', async () => {
    const conn = await connect({
      '/t.T/Delay': async (call) => {
        const n = call.request[0]!;
        await new Promise((resolve) => setTimeout(resolve, (20 - n) * 5));
        await reply(call.stream, frame(bytes(n, n * 2)), { pieceSize: 1 });
      },
    });
    try {
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, n) => conn.client.unary('/t.T/Delay', bytes(n))),
      );
      assert.deepEqual(
        results,
        Array.from({ length: 20 }, (_, n) => bytes(n, n * 2)),
      );
      assert.equal(conn.server.sessions.length, 1);
      assert.deepEqual(
        conn.server.calls.map((call) => call.request[0]).sort((a, b) => a! - b!),
        Array.from({ length: 20 }, (_, n) => n),
      );
    } finally {
      await conn.done();
    }
  });

  test('errors: trailers-only, trailers after headers, percent-encoded messages, details', async () => {
    const conn = await connect({
      '/t.T/NotFound': (call) => trailersOnly(call.stream, GrpcCode.NOT_FOUND, 'ref abc not found'),
      '/t.T/Invalid': (call) =>
        reply(call.stream, Buffer.alloc(0), {
          trailers: { 'grpc-status': '3', 'grpc-message': 'bad platform "linux/x"' },
        }),
      '/t.T/Encoded': (call) =>
        trailersOnly(call.stream, GrpcCode.FAILED_PRECONDITION, 'caf%C3%A9: 100%25 %E2%9C%93%0Anext line'),
      '/t.T/Detailed': (call) =>
        trailersOnly(call.stream, GrpcCode.UNKNOWN, encodeGrpcMessage('solve failed'), {
          'grpc-status-details-bin': Buffer.from([8, 2, 18, 1, 0x78]).toString('base64'),
          'x-request': 'r1',
        }),
      '/t.T/Long': (call) => trailersOnly(call.stream, GrpcCode.ABORTED, 'x'.repeat(60_000)),
    });
    try {
      await rejectsWith(conn.client.unary('/t.T/NotFound', bytes()), 5, 'NOT_FOUND', 'ref abc not found');
      await rejectsWith(conn.client.unary('/t.T/Invalid', bytes()), 3, 'INVALID_ARGUMENT', 'bad platform "linux/x"');
      await rejectsWith(
        conn.client.unary('/t.T/Encoded', bytes()),
        9,
        'FAILED_PRECONDITION',
        'café: 100% ✓\nnext line',
      );
      const detailed = await rejectsWith(conn.client.unary('/t.T/Detailed', bytes()), 2, 'UNKNOWN', 'solve failed');
      assert.deepEqual(
        [detailed.details, detailed.metadata, detailed.path, detailed.httpStatus],
        [bytes(8, 2, 18, 1, 0x78), { date: DATE, 'x-request': 'r1' }, '/t.T/Detailed', undefined],
      );
      await rejectsWith(conn.client.unary('/t.T/Long', bytes()), 10, 'ABORTED', 'x'.repeat(60_000));
      await rejectsWith(conn.client.unary('/t.T/Missing', bytes()), 12, 'UNIMPLEMENTED', 'unknown method /t.T/Missing');
      // The connection is still good.
      conn.server.handlers['/t.T/Ok'] = (call) => reply(call.stream, frame(bytes(1)));
      assert.deepEqual(await conn.client.unary('/t.T/Ok', bytes()), bytes(1));
    } finally {
      await conn.done();
    }
  });

  test('errors: non-200 HTTP status, missing grpc-status, foreign content-type', async () => {
    const conn = await connect({
      '/t.T/Http503': (call) =>
        call.stream.respond({ ':status': 503, 'content-type': 'text/plain' }, { endStream: true }),
      '/t.T/Http404Body': (call) => {
        call.stream.respond({ ':status': 404, 'content-type': 'text/html' });
        call.stream.end('<h1>not found</h1>');
      },
      '/t.T/NoStatus': (call) => reply(call.stream, frame(bytes(1)), { trailers: { 'x-other': 'value' } }),
      '/t.T/NoTrailers': (call) => {
        call.stream.respond({ ':status': 200, 'content-type': 'application/grpc' });
        call.stream.end(frame(bytes(1)));
      },
      '/t.T/Html': (call) => call.stream.respond({ ':status': 200, 'content-type': 'text/html' }, { endStream: true }),
    });
    try {
      const http = await rejectsWith(
        conn.client.unary('/t.T/Http503', bytes()),
        14,
        'UNAVAILABLE',
        'the server answered with HTTP status 503 (Service Unavailable) instead of 200',
      );
      assert.equal(http.httpStatus, 503);
      await rejectsWith(
        conn.client.unary('/t.T/Http404Body', bytes()),
        12,
        'UNIMPLEMENTED',
        'the server answered with HTTP status 404 (Not Found) instead of 200',
      );
      await rejectsWith(
        conn.client.unary('/t.T/NoStatus', bytes()),
        13,
        'INTERNAL',
        'the trailers have no grpc-status (missing grpc-status)',
      );
      await rejectsWith(
        conn.client.unary('/t.T/NoTrailers', bytes()),
        13,
        'INTERNAL',
        'the response ended without trailers (missing grpc-status)',
      );
      await rejectsWith(
        conn.client.unary('/t.T/Html', bytes()),
        13,
        'INTERNAL',
        'the server answered with content-type "text/html" instead of application/grpc',
      );
    } finally {
      await conn.done();
    }
  });

  test('errors: bad response framing', async () => {
    const conn = await connect(
      {
        '/t.T/Compressed': (call) => reply(call.stream, frame(bytes(1, 2), 1)),
        '/t.T/TooBig': (call) => reply(call.stream, frame(new Uint8Array(1025))),
        '/t.T/Two': (call) => reply(call.stream, Buffer.concat([frame(bytes(1)), frame(bytes(2))])),
        '/t.T/None': (call) => reply(call.stream, Buffer.alloc(0)),
        '/t.T/Short': (call) => reply(call.stream, frame(bytes(1, 2, 3)).subarray(0, 7)),
      },
      { maxReceiveMessageBytes: 1024, maxSendMessageBytes: 16 },
    );
    try {
      await rejectsWith(
        conn.client.unary('/t.T/Compressed', bytes()),
        13,
        'INTERNAL',
        'received a compressed message (2 bytes) but no compression was negotiated in the response to /t.T/Compressed',
      );
      await rejectsWith(
        conn.client.unary('/t.T/TooBig', bytes()),
        8,
        'RESOURCE_EXHAUSTED',
        'received a message larger than the maximum (1025 vs. 1024 bytes) in the response to /t.T/TooBig',
      );
      await rejectsWith(
        conn.client.unary('/t.T/Two', bytes()),
        13,
        'INTERNAL',
        'the server sent more than one response message for the unary call /t.T/Two',
      );
      await rejectsWith(
        conn.client.unary('/t.T/None', bytes()),
        13,
        'INTERNAL',
        'the server sent status OK but no response message for /t.T/None',
      );
      await rejectsWith(
        conn.client.unary('/t.T/Short', bytes()),
        13,
        'INTERNAL',
        'the stream ended after 2 of the 3 bytes of a message in the response to /t.T/Short',
      );
      await rejectsWith(
        conn.client.unary('/t.T/Send', new Uint8Array(17)),
        8,
        'RESOURCE_EXHAUSTED',
        'cannot call /t.T/Send: the request is larger than the maximum (17 vs. 16 bytes)',
      );
      await rejectsWith(
        conn.client.unary('/t.T/Send', bytes(), { metadata: { Upper: 'x' } }),
        13,
        'INTERNAL',
        'invalid metadata "Upper" for /t.T/Send: names are lower-case [0-9a-z_.-]',
      );
      await rejectsWith(
        conn.client.unary('/t.T/Send', bytes(), { metadata: { 'grpc-x': 'x' } }),
        13,
        'INTERNAL',
        'invalid metadata "grpc-x" for /t.T/Send: the name is reserved',
      );
      await rejectsWith(
        conn.client.unary('/t.T/Send', bytes(), { metadata: { note: 'é' } }),
        13,
        'INTERNAL',
        'invalid metadata "note" for /t.T/Send: values are printable ASCII (use a -bin name for bytes)',
      );
      assert.deepEqual(
        conn.server.calls.map((call) => call.path),
        ['/t.T/Compressed', '/t.T/TooBig', '/t.T/Two', '/t.T/None', '/t.T/Short'],
        'refused requests are never sent',
      );
    } finally {
      await conn.done();
    }
  });

  test('errors: stream resets and the deadline', async () => {
    const conn = await connect({
      '/t.T/Cancel': (call) => call.stream.close(http2.constants.NGHTTP2_CANCEL),
      '/t.T/Refused': (call) => call.stream.close(http2.constants.NGHTTP2_REFUSED_STREAM),
      '/t.T/Calm': (call) => call.stream.close(http2.constants.NGHTTP2_ENHANCE_YOUR_CALM),
      '/t.T/Internal': (call) => call.stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR),
      '/t.T/Hang': () => {},
    });
    try {
      await rejectsWith(
        conn.client.unary('/t.T/Cancel', bytes()),
        1,
        'CANCELLED',
        'the server reset the stream of /t.T/Cancel with CANCEL (8)',
      );
      await rejectsWith(
        conn.client.unary('/t.T/Refused', bytes()),
        14,
        'UNAVAILABLE',
        'the server reset the stream of /t.T/Refused with REFUSED_STREAM (7)',
      );
      await rejectsWith(
        conn.client.unary('/t.T/Calm', bytes()),
        8,
        'RESOURCE_EXHAUSTED',
        'the server reset the stream of /t.T/Calm with ENHANCE_YOUR_CALM (11)',
      );
      await rejectsWith(
        conn.client.unary('/t.T/Internal', bytes()),
        13,
        'INTERNAL',
        'the server reset the stream of /t.T/Internal with INTERNAL_ERROR (2)',
      );
      const started = Date.now();
      await rejectsWith(
        conn.client.unary('/t.T/Hang', bytes(), { timeoutMs: 100 }),
        4,
        'DEADLINE_EXCEEDED',
        'deadline exceeded: /t.T/Hang did not complete within 100 ms',
      );
      assert.ok(Date.now() - started < 1000);
      assert.equal(conn.server.calls.at(-1)!.headers['grpc-timeout'], '100m');
      // The client cancels the stream it gave up on.
      const hung = () => conn.server.resets.filter((reset) => reset.path === '/t.T/Hang');
      for (let i = 0; i < 100 && hung().length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 10));
      assert.deepEqual(hung(), [{ path: '/t.T/Hang', rstCode: http2.constants.NGHTTP2_CANCEL }]);
    } finally {
      await conn.done();
    }
  });

  test('the server closing the connection mid-call fails the call and every later one', async () => {
    // node:http2's session.destroy() sends GOAWAY first; the call had been accepted.
    const conn = await connect({ '/t.T/Drop': (call) => call.session.destroy() });
    try {
      await rejectsWith(
        conn.client.unary('/t.T/Drop', bytes(1)),
        14,
        'UNAVAILABLE',
        'the connection ended before /t.T/Drop completed: the server is closing the connection (GOAWAY)',
      );
      await rejectsWith(
        conn.client.unary('/t.T/Drop', bytes(2)),
        14,
        'UNAVAILABLE',
        'cannot call /t.T/Drop: the server is closing the connection (GOAWAY)',
      );
      assert.equal(conn.server.calls.length, 1);
    } finally {
      await conn.done();
    }

    // The connection just ending (BuildKit's side going away): no GOAWAY, no trailers.
    let sockets: Connected['sockets'] | undefined;
    const cut = await connect({ '/t.T/Cut': () => void sockets!.server.destroy() });
    sockets = cut.sockets;
    try {
      await rejectsWith(
        cut.client.unary('/t.T/Cut', bytes(1)),
        14,
        'UNAVAILABLE',
        'the connection ended before /t.T/Cut completed: the connection is closed',
      );
      await rejectsWith(
        cut.client.unary('/t.T/Cut', bytes(2)),
        14,
        'UNAVAILABLE',
        'cannot call /t.T/Cut: the connection is closed',
      );
    } finally {
      await cut.done();
    }
  });

  test('GOAWAY: accepted calls finish, later ones fail; GOAWAY with an error fails pending calls', async () => {
    let release: () => void = () => {};
    const conn = await connect({
      '/t.T/Slow': (call) => {
        release = () => void reply(call.stream, frame(bytes(0x51)));
        call.session.goaway(http2.constants.NGHTTP2_NO_ERROR, call.stream.id!);
      },
    });
    try {
      const slow = conn.client.unary('/t.T/Slow', bytes());
      for (let i = 0; i < 100 && conn.server.calls.length === 0; i++) await nextTurn();
      await new Promise((resolve) => setTimeout(resolve, 50));
      await rejectsWith(
        conn.client.unary('/t.T/Slow', bytes()),
        14,
        'UNAVAILABLE',
        'cannot call /t.T/Slow: the server is closing the connection (GOAWAY)',
      );
      release();
      assert.deepEqual(await slow, bytes(0x51));
    } finally {
      await conn.done();
    }

    // A stream the client opened after the server's last accepted one is refused.
    const racing = await connect({
      '/t.T/First': (call) => {
        call.session.goaway(http2.constants.NGHTTP2_NO_ERROR, call.stream.id!);
        void reply(call.stream, frame(bytes(1)));
      },
      '/t.T/Second': () => {},
    });
    try {
      const [first, second] = await Promise.allSettled([
        racing.client.unary('/t.T/First', bytes()),
        racing.client.unary('/t.T/Second', bytes()),
      ]);
      assert.deepEqual(first, { status: 'fulfilled', value: bytes(1) });
      assert.equal(second.status, 'rejected');
      await rejectsWith(
        Promise.reject((second as PromiseRejectedResult).reason),
        14,
        'UNAVAILABLE',
        'the server did not accept /t.T/Second: the server is closing the connection (GOAWAY)',
      );
    } finally {
      await racing.done();
    }

    // GOAWAY with an error code ends the connection: an accepted call in flight fails.
    const failing = await connect({
      '/t.T/Fail': (call) => call.session.goaway(http2.constants.NGHTTP2_INTERNAL_ERROR, call.stream.id!),
    });
    try {
      await rejectsWith(
        failing.client.unary('/t.T/Fail', bytes()),
        14,
        'UNAVAILABLE',
        'the connection ended before /t.T/Fail completed: the server is closing the connection (GOAWAY with INTERNAL_ERROR (2))',
      );
    } finally {
      await failing.done();
    }
  });

  test('close() lets calls in flight finish, ends the connection, refuses new calls', async () => {
    const lines: string[] = [];
    const conn = await connect(
      {
        '/t.T/Later': async (call) => {
          await new Promise((resolve) => setTimeout(resolve, 50));
          await reply(call.stream, frame(bytes(9)));
        },
      },
      { log: (line) => lines.push(line) },
    );
    const pending = conn.client.unary('/t.T/Later', bytes());
    await new Promise((resolve) => setTimeout(resolve, 10));
    const ended = once(conn.sockets.server, 'end');
    await conn.client.close();
    assert.deepEqual(await pending, bytes(9));
    await ended;
    await rejectsWith(
      conn.client.unary('/t.T/Later', bytes()),
      14,
      'UNAVAILABLE',
      'cannot call /t.T/Later: the client was closed',
    );
    await conn.done();
    const shown = lines.map((line) => line.replace(/, \d+ ms$/, ', T ms'));
    assert.deepEqual(
      shown.filter((line) => !/^(server settings|GOAWAY)/.test(line)),
      // On a native socket the stream gets its id before the 'connect' event.
      ['-> /t.T/Later on stream 1, 0 bytes', 'connected', '<- /t.T/Later OK, 1 bytes, T ms', 'connection closed'],
    );
    // The server answers our GOAWAY with its own.
    assert.deepEqual(
      [...new Set(shown.filter((line) => line.startsWith('GOAWAY')))],
      ['GOAWAY NO_ERROR (0), last stream 1'],
    );
    assert.match(
      found(
        shown.find((line) => line.startsWith('server settings')),
        'a server settings line',
      ),
      /^server settings \{.*\}$/,
    );
  });
});

// ---------------------------------------------------------------------------------------------
// The real thing: a child process whose stdin/stdout are the connection
// ---------------------------------------------------------------------------------------------

describe('grpc over stdio', () => {
  test('a child frontend process: two calls over its stdin/stdout, only HTTP/2 on stdout', async () => {
    const clientUrl = new URL('../frontend/grpc/client.js', import.meta.url).href;
    const script = join(directory, 'frontend.mjs');
    await writeFile(
      script,
      [
        `import { GrpcClient } from ${JSON.stringify(clientUrl)};`,
        `const client = GrpcClient.overStdio();`,
        `console.log('console.log goes to stderr');`,
        `process.stdout.write('so does process.stdout.write\\n');`,
        `const hex = (b) => Buffer.from(b).toString('hex');`,
        `const [ping, ret] = await Promise.all([`,
        `  client.unary('/moby.buildkit.v1.frontend.LLBBridge/Ping', new Uint8Array(0)),`,
        `  client.unary('/moby.buildkit.v1.frontend.LLBBridge/Return', Uint8Array.from([0x0a, 0x02, 0x68, 0x69])),`,
        `]);`,
        `process.stderr.write('ping ' + hex(ping) + '\\nreturn ' + hex(ret) + '\\n');`,
        `await client.close();`,
        `process.stderr.write('closed\\n');`,
        // No process.exit: the process must end by itself once the connection is closed.
        '',
      ].join('\n'),
    );

    const child = spawn(process.execPath, [script], { stdio: ['pipe', 'pipe', 'pipe'] });
    const stdout: Buffer[] = [];
    let stderr = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => (stderr += chunk));
    const fromChild = new PassThrough();
    child.stdout.on('data', (chunk: Buffer) => {
      stdout.push(chunk);
      fromChild.write(chunk);
    });
    child.stdout.on('end', () => fromChild.end());
    child.stdin.on('error', () => {});

    const server = new TestServer({
      '/moby.buildkit.v1.frontend.LLBBridge/Ping': (call) =>
        reply(call.stream, frame(bytes(0x0a, 0x03, 0x31, 0x2e, 0x30))),
      '/moby.buildkit.v1.frontend.LLBBridge/Return': (call) => reply(call.stream, frame(new Uint8Array(0))),
    });
    server.accept(Duplex.from({ readable: fromChild, writable: child.stdin }));

    const timeout = setTimeout(() => child.kill('SIGKILL'), 10_000);
    const [exitCode, signal] = (await once(child, 'exit')) as [number | null, string | null];
    clearTimeout(timeout);

    assert.deepEqual(
      { exitCode, signal, stderr },
      {
        exitCode: 0,
        signal: null,
        stderr: 'console.log goes to stderr\nso does process.stdout.write\nping 0a03312e30\nreturn \nclosed\n',
      },
    );
    assert.deepEqual(
      server.calls.map((call) => [call.path, hex(call.request), call.headers[':authority']]),
      [
        ['/moby.buildkit.v1.frontend.LLBBridge/Ping', '', 'localhost'],
        ['/moby.buildkit.v1.frontend.LLBBridge/Return', '0a026869', 'localhost'],
      ],
    );

    // Everything the child wrote to stdout is the HTTP/2 preface followed by whole frames.
    const all = Buffer.concat(stdout);
    assert.deepEqual(all.subarray(0, PREFACE.length), PREFACE);
    const frames = parseFrames(all.subarray(PREFACE.length));
    assert.equal(frames[0]!.type, 4, 'SETTINGS first');
    assert.deepEqual(
      frames.filter((f) => f.type === 1).map((f) => [f.streamId, f.flags & 0x1]),
      [
        [1, 0],
        [3, 0],
      ],
      'two HEADERS, neither ending its stream',
    );
    const body = (id: number) =>
      hex(Buffer.concat(frames.filter((f) => f.type === 0 && f.streamId === id).map((f) => f.payload)));
    assert.deepEqual([body(1), body(3)], ['0000000000', '00000000040a026869']);
    assert.equal(frames.filter((f) => f.type === 7).length, 1, 'one GOAWAY, from close()');
    for (const session of server.sessions) session.destroy();
  });
});
