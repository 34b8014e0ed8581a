/**
 * The connection BuildKit gives a gateway frontend: plaintext HTTP/2 on the process's stdin
 * (server to frontend) and stdout (frontend to server), presented as one Duplex that
 * `http2.connect(..., { createConnection })` can use.
 *
 * Every byte on stdout must be an HTTP/2 frame, so by default the stdio connection also diverts
 * any other write to process.stdout (console.log included) to stderr.
 */
import { Duplex, type Readable, type Writable } from 'node:stream';

export interface StdioDuplexOptions {
  /** Where the server's bytes come from. Default process.stdin. */
  input?: Readable;
  /** Where the client's bytes go. Default process.stdout. */
  output?: Writable;
  /**
   * Replace `output.write` so that anything else writing to it goes to `divertTo` instead, keeping
   * the connection's bytes the only ones on it. Default true when output is process.stdout.
   */
  guardOutput?: boolean;
  /** Where diverted writes go. Default process.stderr. */
  divertTo?: Writable;
  /** End `output` when the connection's writable side ends or is destroyed. Default true. */
  endOutput?: boolean;
}

type WriteFunction = Writable['write'];
type RawWrite = (this: Writable, chunk: Buffer, callback: (error?: Error | null) => void) => boolean;

/**
 * A Duplex that reads raw bytes from `input` and writes to `output`, with backpressure both ways:
 * input is paused while the consumer is not reading, and a write completes only once output took
 * it. Input must be in binary mode (no setEncoding, no object mode).
 */
export class StdioDuplex extends Duplex {
  private readonly input: Readable;
  private readonly output: Writable;
  private readonly outputWrite: RawWrite;
  private readonly endOutput: boolean;
  private readonly onData: (chunk: unknown) => void;
  private readonly onEnd: () => void;
  private readonly onInputError: (error: Error) => void;
  private readonly onOutputError: (error: Error) => void;

  constructor(options: StdioDuplexOptions = {}) {
    super({ allowHalfOpen: true, decodeStrings: true });
    const input = options.input ?? process.stdin;
    const output = options.output ?? process.stdout;
    if (input.readableObjectMode)
      throw new TypeError('the gRPC connection input must be a byte stream, not an object-mode stream');
    if (input.readableEncoding !== null) {
      throw new TypeError(
        `the gRPC connection input must be in binary mode, but it decodes to ${input.readableEncoding}`,
      );
    }
    this.input = input;
    this.output = output;
    this.endOutput = options.endOutput ?? true;
    this.outputWrite = output.write as RawWrite;

    const guard = options.guardOutput ?? output === process.stdout;
    if (guard) {
      const divertTo = options.divertTo ?? process.stderr;
      // Everything but this connection that writes to the output (console.log, a stray
      // process.stdout.write) lands on divertTo; the connection writes through outputWrite.
      output.write = ((...args: Parameters<WriteFunction>) =>
        (divertTo.write as (...a: unknown[]) => boolean)(...args)) as WriteFunction;
    }

    this.onData = (chunk) => {
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'latin1') : (chunk as Buffer);
      if (!this.push(bytes)) this.input.pause();
    };
    this.onEnd = () => {
      this.push(null);
    };
    this.onInputError = (error) => this.destroy(error);
    this.onOutputError = (error) => this.destroy(error);
    input.pause();
    input.on('data', this.onData);
    input.once('end', this.onEnd);
    input.on('error', this.onInputError);
    output.on('error', this.onOutputError);
  }

  override _read(): void {
    this.input.resume();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.outputWrite.call(this.output, chunk, (error) => callback(error ?? null));
  }

  override _writev(
    chunks: Array<{ chunk: Buffer; encoding: BufferEncoding }>,
    callback: (error?: Error | null) => void,
  ): void {
    this.outputWrite.call(this.output, Buffer.concat(chunks.map(({ chunk }) => chunk)), (error) =>
      callback(error ?? null),
    );
  }

  override _final(callback: (error?: Error | null) => void): void {
    if (!this.endOutput || this.output.writableEnded) {
      callback(null);
      return;
    }
    this.output.end(() => callback(null));
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.input.off('data', this.onData);
    this.input.off('end', this.onEnd);
    // Paused and without our listener, stdin no longer keeps the event loop alive. The error
    // listeners stay: a late EPIPE on a stream we used must not become an uncaught exception.
    this.input.pause();
    if (this.endOutput && !this.output.writableEnded && !this.output.destroyed) this.output.end();
    callback(error);
  }
}

/** The frontend's connection to BuildKit: process.stdin and process.stdout, stdout guarded. */
export function stdioDuplex(options: StdioDuplexOptions = {}): StdioDuplex {
  return new StdioDuplex(options);
}
