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
} from './entry.js';

const BLOCK = 512;
/** Largest size an 11-digit octal ustar size field holds (8 GiB - 1). */
const MAX_USTAR_SIZE = 0o77777777777;

/**
 * The gzip member header, written by hand rather than by zlib: zlib fills the OS byte from a
 * compile-time constant that differs between platforms (Windows and macOS builds do not write
 * 3), which would make the same archive differ by where it was built.
 * ID1 ID2, CM=8 (deflate), FLG=0 (no name, comment or extra), MTIME=0, XFL=0 (level 6), OS=3 (unix).
 */
export const GZIP_HEADER: Readonly<Buffer> = Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, 0x00, 0x03]);

/**
 * Writes a reproducible .tar.gz: entries sorted by name, ustar headers with the given mode,
 * uid/gid 0, empty user and group names and `options.mtime`; a gzip header with no name and
 * mtime 0. The same entry contents, modes, names and mtime always give the same bytes, whatever
 * the order of `entries` or the files' own timestamps, owners and permissions.
 */
export async function writeTarGz(
  finalPath: string,
  entries: readonly ArchiveEntry[],
  options: ArchiveOptions,
): Promise<ArchiveResult> {
  checkMtime(options.mtime);
  const checked = checkEntries(entries);
  for (const entry of checked) splitUstarName(entry);

  return writeArchiveAtomically(finalPath, async (output) => {
    let crc = 0;
    let length = 0;
    async function* tar(): AsyncGenerator<Buffer> {
      for await (const chunk of tarStream(checked, options.mtime)) {
        crc = crc32(chunk, crc);
        length += chunk.byteLength;
        yield chunk;
      }
    }

    await output.write(GZIP_HEADER);
    await pipeline(
      Readable.from(tar()),
      createDeflateRaw({ level: DEFLATE_LEVEL }),
      async (compressed: AsyncIterable<Buffer>) => {
        for await (const chunk of compressed) await output.write(chunk);
      },
    );
    const trailer = Buffer.alloc(8);
    trailer.writeUInt32LE(crc >>> 0, 0);
    trailer.writeUInt32LE(length % 2 ** 32, 4);
    await output.write(trailer);
  });
}

/** The uncompressed tar stream: header, content and padding per entry, then two zero blocks. */
async function* tarStream(entries: readonly CheckedEntry[], mtime: number): AsyncGenerator<Buffer> {
  for (const entry of entries) {
    const source = await openSource(entry);
    try {
      if (source.size > MAX_USTAR_SIZE) {
        throw new GociError(
          'BAD_ARGUMENT',
          `archive entry ${entry.name} is ${source.size} bytes, more than a ustar header can describe`,
        );
      }
      yield ustarHeader(entry, source.size, mtime);
      yield* readSource(entry, source);
      const padding = (BLOCK - (source.size % BLOCK)) % BLOCK;
      if (padding > 0) yield Buffer.alloc(padding);
    } finally {
      await source.handle.close();
    }
  }
  yield Buffer.alloc(2 * BLOCK);
}

/**
 * ustar keeps long paths as prefix + '/' + name (155 and 100 bytes). Names that cannot be split
 * that way are rejected instead of falling back to pax or GNU extensions.
 */
function splitUstarName(entry: CheckedEntry): { prefix: Buffer; name: Buffer } {
  const bytes = entry.nameBytes;
  if (bytes.length <= 100) return { prefix: Buffer.alloc(0), name: bytes };
  for (let slash = bytes.indexOf(0x2f); slash !== -1; slash = bytes.indexOf(0x2f, slash + 1)) {
    if (slash <= 155 && bytes.length - slash - 1 <= 100) {
      return { prefix: bytes.subarray(0, slash), name: bytes.subarray(slash + 1) };
    }
  }
  throw new GociError('BAD_ARGUMENT', `archive entry name ${entry.name} is too long for a ustar header`, {
    hint: 'keep each entry name within 100 bytes after its last 155-byte directory prefix',
  });
}

/** Writes `value` as zero-padded octal filling `width - 1` bytes, then a NUL, as GNU tar does. */
function writeOctal(block: Buffer, offset: number, width: number, value: number): void {
  block.write(value.toString(8).padStart(width - 1, '0'), offset, width - 1, 'ascii');
  block[offset + width - 1] = 0;
}

function ustarHeader(entry: CheckedEntry, size: number, mtime: number): Buffer {
  const block = Buffer.alloc(BLOCK);
  const { prefix, name } = splitUstarName(entry);
  name.copy(block, 0);
  writeOctal(block, 100, 8, entry.mode);
  writeOctal(block, 108, 8, 0); // uid
  writeOctal(block, 116, 8, 0); // gid
  writeOctal(block, 124, 12, size);
  writeOctal(block, 136, 12, mtime);
  block.fill(0x20, 148, 156); // checksum field counts as spaces while summing
  block[156] = 0x30; // typeflag '0': regular file
  // linkname (157), uname (265) and gname (297) stay empty.
  block.write('ustar\u000000', 257, 8, 'ascii'); // magic "ustar\0", version "00"
  writeOctal(block, 329, 8, 0); // devmajor
  writeOctal(block, 337, 8, 0); // devminor
  prefix.copy(block, 345);
  let sum = 0;
  for (const byte of block) sum += byte;
  block.write(`${sum.toString(8).padStart(6, '0')}\u0000 `, 148, 8, 'ascii');
  return block;
}
