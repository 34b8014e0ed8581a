import { createHash } from 'node:crypto';
import { once } from 'node:events';
import type { FileHandle } from 'node:fs/promises';
import { pack as tarPack, type Header, type Pack } from 'tar-stream';
import { isGociError } from '../common/errors.js';

/** A header as tar-stream's pack takes it. */
export type PackHeader = Partial<Header> & Pick<Header, 'name'>;

export function noop(): void {}

/** Bytes written to a file, hashed and counted as they go; remembers the first write failure. */
export class HashedOutput {
  private readonly hash = createHash('sha256');
  size = 0;
  failure: unknown;

  constructor(private readonly handle: FileHandle) {}

  async write(chunk: Uint8Array): Promise<void> {
    try {
      let offset = 0;
      while (offset < chunk.byteLength) {
        const { bytesWritten } = await this.handle.write(chunk, offset, chunk.byteLength - offset);
        offset += bytesWritten;
      }
    } catch (error) {
      this.failure ??= error;
      throw error;
    }
    this.hash.update(chunk);
    this.size += chunk.byteLength;
  }

  sha256Hex(): string {
    return this.hash.digest('hex');
  }
}

/** Adds an entry with no content (directory, symlink); tar-stream ends it once its header is out. */
export async function addEmptyEntry(packer: Pack, header: PackHeader): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const sink = packer.entry(header, (error) => (error ? reject(error) : resolve()));
    sink.on('error', noop);
  });
}

/** Writes one entry's content into its tar-stream sink, honouring backpressure. */
export async function streamEntry(
  packer: Pack,
  header: PackHeader,
  chunks: Iterable<Buffer> | AsyncIterable<Buffer>,
): Promise<void> {
  let sink!: ReturnType<Pack['entry']>;
  const done = new Promise<void>((resolve, reject) => {
    sink = packer.entry(header, (error) => (error ? reject(error) : resolve()));
  });
  // A failure elsewhere destroys the packer, which destroys this sink: that error is reported
  // by whoever caused it, so neither the sink's 'error' nor an unawaited `done` may go unhandled.
  sink.on('error', noop);
  done.catch(noop);
  try {
    for await (const chunk of chunks) {
      if (chunk.byteLength === 0) continue;
      if (!sink.write(chunk)) await Promise.race([once(sink, 'drain'), done]);
    }
  } catch (error) {
    sink.destroy(error as Error);
    throw error;
  }
  sink.end(undefined); // streamx types want an argument; undefined adds no data
  await done;
}

/**
 * Packs `entries` with tar-stream while `consume` reads the tar bytes, and reports the cause
 * when either side fails. The first failure destroys the packer, which makes the other side
 * fail too ("tar entry destroyed", "premature close"); a failed write to `output` can only be
 * a cause, and the producer's own failures (unreadable source, size change) are GociErrors.
 */
export async function packTar<T>(
  entries: readonly T[],
  addEntry: (packer: Pack, entry: T) => Promise<void>,
  consume: (tar: AsyncIterable<Buffer>) => Promise<void>,
  output: HashedOutput,
): Promise<void> {
  const packer = tarPack();
  // Errors reach us through the iterator and the entry callbacks; without a listener,
  // destroying the packer would also throw them as an uncaught 'error' event.
  packer.on('error', noop);
  const consuming = consume(packer as AsyncIterable<Buffer>).catch((error: unknown) => {
    // Node 20's pipeline reports a failing last stage as an AbortError; the write's own
    // error (ENOSPC, EFBIG, EIO) is the one worth showing.
    throw output.failure ?? error;
  });
  // A failed consumer must not leave the producer waiting for the packer to drain.
  consuming.catch((error: unknown) => packer.destroy(error as Error));
  const producing = (async () => {
    try {
      for (const entry of entries) await addEntry(packer, entry);
      packer.finalize();
    } catch (error) {
      packer.destroy(error as Error);
      throw error;
    }
  })();
  const [produced, consumed] = await Promise.allSettled([producing, consuming]);
  if (produced.status === 'rejected' || consumed.status === 'rejected') {
    if (output.failure !== undefined) throw output.failure;
    const reasons = [produced, consumed].flatMap((result) =>
      result.status === 'rejected' ? [result.reason as unknown] : [],
    );
    throw reasons.find(isGociError) ?? reasons[0];
  }
}
