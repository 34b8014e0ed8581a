import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createDeflateRaw, crc32 } from 'node:zlib';
import { GociError } from '../../common/errors.js';
import {
  checkEntries,
  checkMtime,
  DEFLATE_LEVEL,
  openSource,
  readSource,
  writeArchiveAtomically,
  type ArchiveEntry,
  type ArchiveOptions,
  type ArchiveResult,
  type CheckedEntry,
  type OpenSource,
} from './entry.js';

const LOCAL_HEADER_SIGNATURE = 0x04034b50;
const CENTRAL_HEADER_SIGNATURE = 0x02014b50;
const END_OF_CENTRAL_DIRECTORY_SIGNATURE = 0x06054b50;
/** 2.0: the version that introduced deflate; both "needed to extract" and the low byte of "made by". */
const ZIP_VERSION = 20;
/** High byte 3 = unix, so extractors read the permission bits from the external attributes. */
const VERSION_MADE_BY = (3 << 8) | ZIP_VERSION;
const METHOD_DEFLATE = 8;
/** General purpose flag bit 11: the name is UTF-8. Set only for non-ASCII names, as Go's archive/zip does. */
const FLAG_UTF8 = 0x0800;
const S_IFREG = 0o100000;
/** Without zip64 every size and offset must fit in 32 bits and the entry count in 16. */
const ZIP32_LIMIT = 0xffffffff;

/** MS-DOS date and time fields: local wall-clock fields with 2-second resolution, years 1980 to 2107. */
export interface DosDateTime {
  date: number;
  time: number;
}

/**
 * Encodes unix seconds as DOS date/time using the UTC wall clock. Times before 1980-01-01
 * 00:00:00 clamp to it and times after 2107-12-31 23:59:58 clamp to that; odd seconds round down.
 */
export function dosDateTime(unixSeconds: number): DosDateTime {
  const at = new Date(unixSeconds * 1000);
  const year = at.getUTCFullYear();
  if (year < 1980) return { date: (0 << 9) | (1 << 5) | 1, time: 0 };
  if (year > 2107) return { date: (127 << 9) | (12 << 5) | 31, time: (23 << 11) | (59 << 5) | 29 };
  return {
    date: ((year - 1980) << 9) | ((at.getUTCMonth() + 1) << 5) | at.getUTCDate(),
    time: (at.getUTCHours() << 11) | (at.getUTCMinutes() << 5) | Math.floor(at.getUTCSeconds() / 2),
  };
}

interface Measured {
  crc: number;
  size: number;
  compressedSize: number;
}

interface CentralRecord extends Measured {
  entry: CheckedEntry;
  flags: number;
  offset: number;
}

/**
 * Writes a reproducible .zip: entries sorted by name, each deflated (method 8) with sizes and
 * CRC in the local header (no data descriptors), no extra fields, no comments, DOS time from
 * `options.mtime` in UTC, "made by" unix with `(S_IFREG | mode) << 16` as external attributes so
 * unzip restores the modes.
 *
 * Because the local header precedes the data, each entry is compressed twice: once to measure
 * it, once to write it. That keeps memory flat for large binaries, and a source that changes
 * between the passes is detected instead of yielding a header that does not match its data.
 */
export async function writeZip(
  finalPath: string,
  entries: readonly ArchiveEntry[],
  options: ArchiveOptions,
): Promise<ArchiveResult> {
  checkMtime(options.mtime);
  const checked = checkEntries(entries);
  if (checked.length > 0xffff) {
    throw new GociError(
      'BAD_ARGUMENT',
      `a zip archive holds at most 65535 entries without zip64; got ${checked.length}`,
    );
  }
  const { date, time } = dosDateTime(options.mtime);

  return writeArchiveAtomically(finalPath, async (output) => {
    const records: CentralRecord[] = [];
    for (const entry of checked) {
      const offset = output.size;
      const source = await openSource(entry);
      try {
        const measured = await deflateSource(entry, source, async () => undefined);
        if (measured.size >= ZIP32_LIMIT || measured.compressedSize >= ZIP32_LIMIT || offset >= ZIP32_LIMIT) {
          throw new GociError(
            'BAD_ARGUMENT',
            `archive entry ${entry.name} does not fit in a zip without zip64 (4 GiB limit)`,
          );
        }
        const flags = isAscii(entry.nameBytes) ? 0 : FLAG_UTF8;
        await output.write(localHeader(entry, flags, date, time, measured));
        const written = await deflateSource(entry, source, (chunk) => output.write(chunk));
        if (
          written.crc !== measured.crc ||
          written.size !== measured.size ||
          written.compressedSize !== measured.compressedSize
        ) {
          throw new GociError(
            'IO_FAILED',
            `archive entry ${entry.name}: ${entry.source} changed while it was being archived`,
            {
              hint: 'make sure nothing else writes the build outputs while archives are created',
            },
          );
        }
        records.push({ entry, flags, offset, ...measured });
      } finally {
        await source.handle.close();
      }
    }

    const directoryOffset = output.size;
    for (const record of records) await output.write(centralHeader(record, date, time));
    const directorySize = output.size - directoryOffset;
    if (directoryOffset >= ZIP32_LIMIT || output.size >= ZIP32_LIMIT) {
      throw new GociError('BAD_ARGUMENT', `zip archive ${finalPath} would exceed 4 GiB, which needs zip64`);
    }
    await output.write(endOfCentralDirectory(records.length, directorySize, directoryOffset));
  });
}

/** Streams one source through raw deflate, handing the compressed bytes to `sink`; returns CRC and sizes. */
async function deflateSource(
  entry: CheckedEntry,
  source: OpenSource,
  sink: (chunk: Buffer) => Promise<void>,
): Promise<Measured> {
  let crc = 0;
  let size = 0;
  let compressedSize = 0;
  async function* content(): AsyncGenerator<Buffer> {
    for await (const chunk of readSource(entry, source)) {
      crc = crc32(chunk, crc);
      size += chunk.byteLength;
      yield chunk;
    }
  }
  await pipeline(
    Readable.from(content()),
    createDeflateRaw({ level: DEFLATE_LEVEL }),
    async (compressed: AsyncIterable<Buffer>) => {
      for await (const chunk of compressed) {
        compressedSize += chunk.byteLength;
        await sink(chunk);
      }
    },
  );
  return { crc: crc >>> 0, size, compressedSize };
}

function isAscii(bytes: Buffer): boolean {
  return bytes.every((byte) => byte < 0x80);
}

function localHeader(entry: CheckedEntry, flags: number, date: number, time: number, measured: Measured): Buffer {
  const header = Buffer.alloc(30 + entry.nameBytes.length);
  header.writeUInt32LE(LOCAL_HEADER_SIGNATURE, 0);
  header.writeUInt16LE(ZIP_VERSION, 4); // version needed to extract
  header.writeUInt16LE(flags, 6);
  header.writeUInt16LE(METHOD_DEFLATE, 8);
  header.writeUInt16LE(time, 10);
  header.writeUInt16LE(date, 12);
  header.writeUInt32LE(measured.crc, 14);
  header.writeUInt32LE(measured.compressedSize, 18);
  header.writeUInt32LE(measured.size, 22);
  header.writeUInt16LE(entry.nameBytes.length, 26);
  header.writeUInt16LE(0, 28); // extra field length
  entry.nameBytes.copy(header, 30);
  return header;
}

function centralHeader(record: CentralRecord, date: number, time: number): Buffer {
  const { entry } = record;
  const header = Buffer.alloc(46 + entry.nameBytes.length);
  header.writeUInt32LE(CENTRAL_HEADER_SIGNATURE, 0);
  header.writeUInt16LE(VERSION_MADE_BY, 4);
  header.writeUInt16LE(ZIP_VERSION, 6); // version needed to extract
  header.writeUInt16LE(record.flags, 8);
  header.writeUInt16LE(METHOD_DEFLATE, 10);
  header.writeUInt16LE(time, 12);
  header.writeUInt16LE(date, 14);
  header.writeUInt32LE(record.crc, 16);
  header.writeUInt32LE(record.compressedSize, 20);
  header.writeUInt32LE(record.size, 24);
  header.writeUInt16LE(entry.nameBytes.length, 28);
  header.writeUInt16LE(0, 30); // extra field length
  header.writeUInt16LE(0, 32); // comment length
  header.writeUInt16LE(0, 34); // disk number start
  header.writeUInt16LE(0, 36); // internal attributes
  header.writeUInt32LE(((S_IFREG | entry.mode) << 16) >>> 0, 38); // external attributes
  header.writeUInt32LE(record.offset, 42);
  entry.nameBytes.copy(header, 46);
  return header;
}

function endOfCentralDirectory(count: number, directorySize: number, directoryOffset: number): Buffer {
  const record = Buffer.alloc(22);
  record.writeUInt32LE(END_OF_CENTRAL_DIRECTORY_SIGNATURE, 0);
  record.writeUInt16LE(0, 4); // this disk
  record.writeUInt16LE(0, 6); // disk with the central directory
  record.writeUInt16LE(count, 8); // entries on this disk
  record.writeUInt16LE(count, 10); // entries in total
  record.writeUInt32LE(directorySize, 12);
  record.writeUInt32LE(directoryOffset, 16);
  record.writeUInt16LE(0, 20); // comment length
  return record;
}
