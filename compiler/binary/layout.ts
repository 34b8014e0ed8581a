/** What the format readers share: bounds-checked reads and where file bytes sit in memory. */
import type { BinaryFormat } from './types.js';

/**
 * Raised by the format readers for anything that stops them: truncation, nonsense values or
 * a machine goci has no GOARCH name for. inspect.ts turns it into GociError('BAD_BINARY')
 * with the file name, which the readers never see.
 */
export class UnreadableBinary extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'UnreadableBinary';
  }
}

/** A run of file bytes that the loader places at a virtual address. */
export interface MappedRange {
  address: number;
  fileOffset: number;
  fileSize: number;
}

/** Everything a format reader learns from headers; build info is decoded from it afterwards. */
export interface ExecutableLayout {
  format: BinaryFormat;
  /** Best guess from the headers alone; build info's GOOS is more reliable. */
  os: string;
  arch: string;
  static: boolean;
  interpreter?: string;
  needed: string[];
  /** Lets pointers stored inside the program be followed back to file bytes. */
  mappings: MappedRange[];
  /** Where the headers say the linker put the build info blob, if they say. */
  buildInfoAddress?: number;
  /** The bytes the offsets refer to: the whole file, or one slice of a universal Mach-O. */
  image: Buffer;
}

/** The file offset holding a virtual address, or undefined when no mapped file bytes hold it. */
export function fileOffsetOf(mappings: readonly MappedRange[], address: number): { offset: number; end: number } | undefined {
  const range = mappings.find((m) => m.address <= address && address < m.address + m.fileSize);
  if (range === undefined) return undefined;
  return { offset: range.fileOffset + (address - range.address), end: range.fileOffset + range.fileSize };
}

/**
 * Bounds-checked reads over a file already in memory. Every read checks its range first, so a
 * truncated or garbage file fails with UnreadableBinary instead of a RangeError, and 64-bit
 * values are only handed out as numbers when they are exact.
 */
export class ByteView {
  constructor(
    readonly bytes: Buffer,
    readonly littleEndian = true,
  ) {}

  get length(): number {
    return this.bytes.length;
  }

  withByteOrder(littleEndian: boolean): ByteView {
    return new ByteView(this.bytes, littleEndian);
  }

  need(offset: number, length: number, what: string): void {
    const valid =
      Number.isSafeInteger(offset) && Number.isSafeInteger(length) && offset >= 0 && length >= 0 && offset + length <= this.bytes.length;
    if (!valid) {
      throw new UnreadableBinary(`${what} (bytes ${offset}..${offset + length}) lies beyond the end of the file (${this.bytes.length} bytes)`);
    }
  }

  u8(offset: number, what = 'header field'): number {
    this.need(offset, 1, what);
    return this.bytes.readUInt8(offset);
  }

  u16(offset: number, what = 'header field'): number {
    this.need(offset, 2, what);
    return this.littleEndian ? this.bytes.readUInt16LE(offset) : this.bytes.readUInt16BE(offset);
  }

  u32(offset: number, what = 'header field'): number {
    this.need(offset, 4, what);
    return this.littleEndian ? this.bytes.readUInt32LE(offset) : this.bytes.readUInt32BE(offset);
  }

  u64Big(offset: number, what = 'header field'): bigint {
    this.need(offset, 8, what);
    return this.littleEndian ? this.bytes.readBigUInt64LE(offset) : this.bytes.readBigUInt64BE(offset);
  }

  /** A 64-bit offset, size or address; one too large for a JS number cannot be honest in a file we hold in memory. */
  u64(offset: number, what = 'header field'): number {
    const value = this.u64Big(offset, what);
    if (value > BigInt(Number.MAX_SAFE_INTEGER)) {
      throw new UnreadableBinary(`${what} at byte ${offset} holds 0x${value.toString(16)}, too large to be an offset or address`);
    }
    return Number(value);
  }

  /** A field that is 8 bytes in 64-bit files and 4 bytes in 32-bit ones. */
  word(offset: number, wide: boolean, what = 'header field'): number {
    return wide ? this.u64(offset, what) : this.u32(offset, what);
  }

  slice(offset: number, length: number, what: string): Buffer {
    this.need(offset, length, what);
    return this.bytes.subarray(offset, offset + length);
  }

  /** A NUL-terminated string that must end before `limit`. */
  cString(offset: number, limit: number, what: string): string {
    this.need(offset, limit - offset, what);
    const nul = this.bytes.subarray(offset, limit).indexOf(0);
    if (nul < 0) throw new UnreadableBinary(`${what} at byte ${offset} is not NUL-terminated`);
    return this.bytes.toString('utf8', offset, offset + nul);
  }

  /** A fixed-width name field, padded with NULs when shorter. */
  paddedString(offset: number, width: number, what: string): string {
    const field = this.slice(offset, width, what);
    const nul = field.indexOf(0);
    return field.toString('utf8', 0, nul < 0 ? width : nul);
  }
}
