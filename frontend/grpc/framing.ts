/**
 * gRPC's Length-Prefixed-Message framing: one flag byte (1 = compressed), a big-endian uint32
 * length, then the message. DATA frame boundaries have nothing to do with message boundaries, so
 * the decoder is incremental: feed it whatever chunks arrive, it returns the messages completed.
 *
 * goci never negotiates compression (it sends no grpc-accept-encoding), so a compressed flag is a
 * protocol error, as it is in grpc-go when the encoding is identity.
 */
import { GrpcCode, GrpcError } from './status.js';

export const FRAME_HEADER_BYTES = 5;

/**
 * 64 MiB. BuildKit never sends more than it allows itself: 16 MiB per message each way since
 * v0.14; before (v0.8 to v0.13, grpc-go defaults) its gateway accepted requests up to 4 MiB and did
 * not limit what it sent.
 */
export const DEFAULT_MAX_MESSAGE_BYTES = 64 * 1024 * 1024;

const MAX_UINT32 = 0xffff_ffff;

/** One message with its 5-byte prefix, ready to be written as the request body. */
export function encodeMessage(message: Uint8Array): Uint8Array {
  if (message.length > MAX_UINT32) {
    throw new GrpcError(
      GrpcCode.RESOURCE_EXHAUSTED,
      `a gRPC message cannot be longer than ${MAX_UINT32} bytes (got ${message.length})`,
    );
  }
  const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + message.length);
  frame[0] = 0;
  frame.writeUInt32BE(message.length, 1);
  frame.set(message, FRAME_HEADER_BYTES);
  return frame;
}

export interface DecoderOptions {
  /** Messages longer than this are refused with RESOURCE_EXHAUSTED. Default 64 MiB. */
  maxMessageBytes?: number;
}

/**
 * Reassembles messages from arbitrary chunks. Each message is copied once into its own buffer
 * (allocated when its header is complete and its length accepted), so a 10 MB message arriving
 * in 16 KiB DATA frames costs one allocation and no re-concatenation.
 *
 * After push() throws, the decoder is broken: the stream it was reading must be abandoned.
 */
export class MessageDecoder {
  readonly maxMessageBytes: number;
  private readonly header = new Uint8Array(FRAME_HEADER_BYTES);
  private headerFilled = 0;
  private body: Uint8Array | undefined;
  private bodyFilled = 0;
  private failed: GrpcError | undefined;

  constructor(options: DecoderOptions = {}) {
    const max = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    if (!Number.isInteger(max) || max < 0 || max > MAX_UINT32)
      throw new RangeError(`maxMessageBytes must be an integer from 0 to ${MAX_UINT32}, got ${max}`);
    this.maxMessageBytes = max;
  }

  /** Bytes received that belong to a message not yet complete. */
  get pendingBytes(): number {
    return this.body === undefined ? this.headerFilled : FRAME_HEADER_BYTES + this.bodyFilled;
  }

  /** Feeds one chunk; returns the messages it completed, in order (possibly none). */
  push(chunk: Uint8Array): Uint8Array[] {
    if (this.failed !== undefined) throw this.failed;
    const messages: Uint8Array[] = [];
    let offset = 0;
    while (offset < chunk.length) {
      if (this.body === undefined) {
        const take = Math.min(FRAME_HEADER_BYTES - this.headerFilled, chunk.length - offset);
        this.header.set(chunk.subarray(offset, offset + take), this.headerFilled);
        this.headerFilled += take;
        offset += take;
        if (this.headerFilled < FRAME_HEADER_BYTES) break;
        this.startMessage();
        if (this.body!.length > 0) continue;
      } else {
        const take = Math.min(this.body.length - this.bodyFilled, chunk.length - offset);
        this.body.set(chunk.subarray(offset, offset + take), this.bodyFilled);
        this.bodyFilled += take;
        offset += take;
      }
      if (this.bodyFilled === this.body!.length) {
        messages.push(this.body!);
        this.body = undefined;
        this.bodyFilled = 0;
        this.headerFilled = 0;
      }
    }
    return messages;
  }

  /** Call at end of stream: throws if a message was cut short. */
  end(): void {
    if (this.failed !== undefined) throw this.failed;
    if (this.pendingBytes > 0) {
      const cut =
        this.body === undefined
          ? `${this.headerFilled} of the ${FRAME_HEADER_BYTES} bytes of a message header`
          : `${this.bodyFilled} of the ${this.body.length} bytes of a message`;
      throw this.fail(GrpcCode.INTERNAL, `the stream ended after ${cut}`);
    }
  }

  private startMessage(): void {
    const flag = this.header[0]!;
    const length = new DataView(this.header.buffer, this.header.byteOffset, FRAME_HEADER_BYTES).getUint32(1);
    if (flag === 1) {
      throw this.fail(
        GrpcCode.INTERNAL,
        `received a compressed message (${length} bytes) but no compression was negotiated`,
      );
    }
    if (flag !== 0) {
      throw this.fail(GrpcCode.INTERNAL, `invalid message flag byte ${flag} (expected 0)`);
    }
    if (length > this.maxMessageBytes) {
      throw this.fail(
        GrpcCode.RESOURCE_EXHAUSTED,
        `received a message larger than the maximum (${length} vs. ${this.maxMessageBytes} bytes)`,
      );
    }
    this.body = new Uint8Array(length);
    this.bodyFilled = 0;
  }

  private fail(code: number, message: string): GrpcError {
    this.failed = new GrpcError(code, message);
    return this.failed;
  }
}
