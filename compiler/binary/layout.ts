/** What the format readers share: bounds-checked reads and where file bytes sit in memory. */
import { readSync } from 'node:fs';
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
  image: ByteSource;
}

/** The file offset holding a virtual address, or undefined when no mapped file bytes hold it. */
export function fileOffsetOf(
  mappings: readonly MappedRange[],
  address: number,
): { offset: number; end: number } | undefined {
  const range = mappings.find((m) => m.address <= address && address < m.address + m.fileSize);
  if (range === undefined) return undefined;
  return { offset: range.fileOffset + (address - range.address), end: range.fileOffset + range.fileSize };
}

/**
 * Random access to the bytes of an executable: a buffer already in memory, or an open file read
 * by range, so a huge or hostile file costs only the pages the headers point at.
 */
export interface ByteSource {
  readonly length: number;
  /** Exactly `length` bytes at `offset`; callers check the range first. */
  read(offset: number, length: number): Buffer;
}

/** The longest single read a header may ask for: no section goci decodes comes near it. */
export const MAX_READ = 64 * 1024 * 1024;

export function bufferSource(bytes: Buffer): ByteSource {
  return { length: bytes.length, read: (offset, length) => bytes.subarray(offset, offset + length) };
}

/** `length` bytes of `source` starting at `start`, addressed from 0 (a slice of a universal Mach-O). */
export function sliceSource(source: ByteSource, start: number, length: number): ByteSource {
  return { length, read: (offset, count) => source.read(start + offset, count) };
}

const PAGE_SIZE = 64 * 1024;
const CACHED_PAGES = 32;

/**
 * An open file read by pages (64 KiB, the last 32 kept), so the many small header reads of a
 * format reader become a few system calls and memory stays bounded whatever the file's size.
 */
export function fileSource(fd: number, size: number): ByteSource {
  const pages = new Map<number, Buffer>();
  const page = (index: number): Buffer => {
    const cached = pages.get(index);
    if (cached !== undefined) {
      pages.delete(index);
      pages.set(index, cached);
      return cached;
    }
    const start = index * PAGE_SIZE;
    const bytes = Buffer.alloc(Math.min(PAGE_SIZE, size - start));
    readFully(fd, bytes, start);
    pages.set(index, bytes);
    if (pages.size > CACHED_PAGES) pages.delete(pages.keys().next().value as number);
    return bytes;
  };
  const read = (offset: number, length: number): Buffer => {
    if (length > PAGE_SIZE) {
      const bytes = Buffer.alloc(length);
      readFully(fd, bytes, offset);
      return bytes;
    }
    const first = Math.floor(offset / PAGE_SIZE);
    const last = Math.floor((offset + length - 1) / PAGE_SIZE);
    if (length === 0) return Buffer.alloc(0);
    if (first === last) return page(first).subarray(offset - first * PAGE_SIZE, offset - first * PAGE_SIZE + length);
    const parts: Buffer[] = [];
    for (let index = first; index <= last; index++) parts.push(page(index));
    const joined = Buffer.concat(parts);
    return joined.subarray(offset - first * PAGE_SIZE, offset - first * PAGE_SIZE + length);
  };
  return { length: size, read };
}

function readFully(fd: number, into: Buffer, position: number): void {
  for (let done = 0; done < into.length; ) {
    const count = readSync(fd, into, done, into.length - done, position + done);
    if (count === 0) throw new UnreadableBinary(`the file ended at byte ${position + done} while being read`);
    done += count;
  }
}

/**
 * Bounds-checked reads over an executable's bytes. Every read checks its range first, so a
 * truncated or garbage file fails with UnreadableBinary instead of a RangeError, and 64-bit
 * values are only handed out as numbers when they are exact.
 */
export class ByteView {
  readonly source: ByteSource;

  constructor(
    bytes: Buffer | ByteSource,
    readonly littleEndian = true,
  ) {
    this.source = Buffer.isBuffer(bytes) ? bufferSource(bytes) : bytes;
  }

  get length(): number {
    return this.source.length;
  }

  withByteOrder(littleEndian: boolean): ByteView {
    return new ByteView(this.source, littleEndian);
  }

  need(offset: number, length: number, what: string): void {
    const integers = Number.isSafeInteger(offset) && Number.isSafeInteger(length);
    const valid = integers && offset >= 0 && length >= 0 && offset + length <= this.length;
    if (!valid) {
      const range = `bytes ${offset}..${offset + length}`;
      throw new UnreadableBinary(`${what} (${range}) lies beyond the end of the file (${this.length} bytes)`);
    }
  }

  private bytesAt(offset: number, length: number, what: string): Buffer {
    this.need(offset, length, what);
    return this.source.read(offset, length);
  }

  u8(offset: number, what = 'header field'): number {
    return this.bytesAt(offset, 1, what).readUInt8(0);
  }

  u16(offset: number, what = 'header field'): number {
    const bytes = this.bytesAt(offset, 2, what);
    return this.littleEndian ? bytes.readUInt16LE(0) : bytes.readUInt16BE(0);
  }

  u32(offset: number, what = 'header field'): number {
    const bytes = this.bytesAt(offset, 4, what);
    return this.littleEndian ? bytes.readUInt32LE(0) : bytes.readUInt32BE(0);
  }

  u64Big(offset: number, what = 'header field'): bigint {
    const bytes = this.bytesAt(offset, 8, what);
    return this.littleEndian ? bytes.readBigUInt64LE(0) : bytes.readBigUInt64BE(0);
  }

  /** A 64-bit offset, size or address; one too large for a JS number cannot be honest in a file. */
  u64(offset: number, what = 'header field'): number {
    const value = this.u64Big(offset, what);
    if (value > BigInt(Number.MAX_SAFE_INTEGER)) {
      throw new UnreadableBinary(
        `${what} at byte ${offset} holds 0x${value.toString(16)}, too large to be an offset or address`,
      );
    }
    return Number(value);
  }

  /** A field that is 8 bytes in 64-bit files and 4 bytes in 32-bit ones. */
  word(offset: number, wide: boolean, what = 'header field'): number {
    return wide ? this.u64(offset, what) : this.u32(offset, what);
  }

  /** Bytes a header points at; a claim beyond MAX_READ is refused rather than allocated. */
  slice(offset: number, length: number, what: string): Buffer {
    this.need(offset, length, what);
    if (length > MAX_READ) {
      throw new UnreadableBinary(`${what} claims ${length} bytes, more than goci reads (${MAX_READ})`);
    }
    return this.source.read(offset, length);
  }

  /** A NUL-terminated string that must end before `limit`, read a page at a time. */
  cString(offset: number, limit: number, what: string): string {
    this.need(offset, limit - offset, what);
    const parts: Buffer[] = [];
    for (let at = offset; at < limit; ) {
      const chunk = this.source.read(at, Math.min(4096, limit - at));
      const nul = chunk.indexOf(0);
      if (nul >= 0) return Buffer.concat([...parts, chunk.subarray(0, nul)]).toString('utf8');
      parts.push(chunk);
      at += chunk.length;
      if (at - offset > MAX_READ) break;
    }
    throw new UnreadableBinary(`${what} at byte ${offset} is not NUL-terminated`);
  }

  /** A fixed-width name field, padded with NULs when shorter. */
  paddedString(offset: number, width: number, what: string): string {
    const field = this.slice(offset, width, what);
    const nul = field.indexOf(0);
    return field.toString('utf8', 0, nul < 0 ? width : nul);
  }
}
