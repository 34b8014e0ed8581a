import { availableParallelism } from 'node:os';
import { promisify } from 'node:util';
import { Semaphore } from '../common/semaphore.js';
import { constants, deflateRaw } from 'node:zlib';

/**
 * The uncompressed stream is cut at every PIECE_BYTES and each piece is deflated on its own, as
 * pigz does: several on zlib's thread pool at once, so the layer of the last target to link is
 * compressed on every core rather than one. Each piece is primed with the 32 KiB before it (what
 * a single deflate could refer back to) and ends in a sync flush (byte-aligned, block not final),
 * so the pieces joined are one valid deflate stream. Where the cuts fall depends only on the
 * bytes, never on timing: the same input gives the same output.
 */
export const PIECE_BYTES = 1024 * 1024;
const WINDOW_BYTES = 32 * 1024;
/** Pieces one layer has deflating or waiting to, at most. */
const PIECES_AT_ONCE = 4;
/**
 * Pieces deflating at once in the process, across layers: one per core. Deflate runs on libuv's
 * thread pool, as file reads and writes do; pieces beyond the cores would not go faster, they
 * would only queue every file operation of the run (an upload's reads, a layout's writes) behind
 * them. The launcher gives the pool two threads more than the cores.
 */
const deflating = new Semaphore(Math.max(1, availableParallelism()));
/** Deflate's output for a piece is at most a little more than the piece: one buffer, one trip to the pool. */
const OUTPUT_CHUNK = PIECE_BYTES + 64 * 1024;

const deflatePiece = promisify(deflateRaw);

export interface DeflateSettings {
  level: number;
  memLevel: number;
}

/** `source` in pieces of exactly PIECE_BYTES (the last one shorter), whatever sizes it arrives in. */
async function* cutIntoPieces(source: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  let pending: Buffer[] = [];
  let length = 0;
  for await (const chunk of source) {
    let rest = chunk;
    while (length + rest.length >= PIECE_BYTES) {
      const take = PIECE_BYTES - length;
      pending.push(rest.subarray(0, take));
      yield Buffer.concat(pending, PIECE_BYTES);
      rest = rest.subarray(take);
      pending = [];
      length = 0;
    }
    if (rest.length > 0) {
      pending.push(rest);
      length += rest.length;
    }
  }
  if (length > 0) yield Buffer.concat(pending, length);
}

/**
 * Deflates `source` (raw deflate, no header) piece by piece, several pieces at once, and hands
 * the compressed bytes to `write` in order. An empty source gives an empty final block.
 */
export async function deflateInPieces(
  source: AsyncIterable<Buffer>,
  settings: DeflateSettings,
  write: (compressed: Buffer) => Promise<void>,
): Promise<void> {
  const inFlight: Promise<Buffer>[] = [];
  let window: Buffer | undefined;
  const start = (piece: Buffer, last: boolean): void => {
    const options = {
      level: settings.level,
      memLevel: settings.memLevel,
      chunkSize: OUTPUT_CHUNK,
      finishFlush: last ? constants.Z_FINISH : constants.Z_SYNC_FLUSH,
      ...(window ? { dictionary: window } : {}),
    };
    const compressed = deflating.acquire().then(async (release) => {
      try {
        return await deflatePiece(piece, options);
      } finally {
        release();
      }
    });
    // Awaited in order below; a failure is thrown there, not reported as unhandled meanwhile.
    compressed.catch(() => undefined);
    inFlight.push(compressed);
    window = piece.subarray(Math.max(0, piece.length - WINDOW_BYTES));
  };
  // One piece is held back: only the next one's arrival (or the end) says whether it is the last.
  let held: Buffer | undefined;
  for await (const piece of cutIntoPieces(source)) {
    if (held) start(held, false);
    held = piece;
    while (inFlight.length >= PIECES_AT_ONCE) await write(await inFlight.shift()!);
  }
  start(held ?? Buffer.alloc(0), true);
  while (inFlight.length > 0) await write(await inFlight.shift()!);
}
