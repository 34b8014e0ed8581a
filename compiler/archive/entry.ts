import { createHash, type Hash } from 'node:crypto';
import { mkdir, open, rm, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { moveIntoPlace, temporarySibling } from '../../common/atomic.js';
import { GociError, isGociError } from '../../common/errors.js';

/** One regular file to put into a release archive. */
export interface ArchiveEntry {
  /** Path inside the archive: relative, '/'-separated, no '.' or '..' segments. */
  name: string;
  /** File on disk whose bytes become the entry's content. */
  source: string;
  /** Permission bits stored in the archive (0o755 for a binary, 0o644 for docs); the source's own mode is ignored. */
  mode: number;
}

export interface ArchiveOptions {
  /** Modification time stored for every entry, in unix seconds (typically SOURCE_DATE_EPOCH or the commit time). */
  mtime: number;
}

export interface ArchiveResult {
  path: string;
  /** Lowercase hex SHA-256 of the archive, computed from the bytes as they were written. */
  sha256: string;
  /** Size of the archive in bytes. */
  size: number;
}

/** An entry that passed validation, with its name already encoded the way it is stored. */
export interface CheckedEntry extends ArchiveEntry {
  nameBytes: Buffer;
}

/** Largest mtime a ustar header can hold (11 octal digits); also far beyond anything sensible. */
export const MAX_MTIME = 0o77777777777;

/** The compression level both formats use. Pinned, because the level changes the output bytes. */
export const DEFLATE_LEVEL = 6;

/** Throws BAD_ARGUMENT unless `name` is a plain relative path that cannot escape the extraction directory. */
export function checkEntryName(name: string): void {
  const bad = (why: string): GociError =>
    new GociError('BAD_ARGUMENT', `archive entry name ${JSON.stringify(name)} ${why}`, {
      hint: "use a relative path with '/' separators, such as 'goci' or 'docs/README.md'",
    });
  if (typeof name !== 'string' || name === '') throw bad('is empty');
  if (name.startsWith('/') || /^[A-Za-z]:/.test(name)) throw bad('is absolute');
  if (name.includes('\\')) throw bad("contains '\\'");
  if (name.includes('\0')) throw bad('contains a NUL byte');
  for (const segment of name.split('/')) {
    if (segment === '..') throw bad("contains '..'");
    if (segment === '.' || segment === '') throw bad("is not normalized (empty or '.' segment, or a trailing '/')");
  }
}

export function checkMtime(mtime: number): void {
  if (!Number.isSafeInteger(mtime) || mtime < 0 || mtime > MAX_MTIME) {
    throw new GociError(
      'BAD_ARGUMENT',
      `archive mtime ${String(mtime)} is not a whole number of unix seconds between 0 and ${MAX_MTIME}`,
    );
  }
}

/** Byte order of the UTF-8 names, so the order never depends on locale or on UTF-16 code units. */
export function compareNames(a: Buffer, b: Buffer): number {
  return Buffer.compare(a, b);
}

/**
 * Validates every entry without touching the disk and returns them sorted by name (byte
 * order). Duplicate names are rejected because extraction would silently keep only one.
 */
export function checkEntries(entries: readonly ArchiveEntry[]): CheckedEntry[] {
  const checked = entries.map((entry): CheckedEntry => {
    checkEntryName(entry.name);
    if (!Number.isInteger(entry.mode) || entry.mode < 0 || entry.mode > 0o7777) {
      throw new GociError(
        'BAD_ARGUMENT',
        `archive entry ${entry.name} has mode ${String(entry.mode)}; expected permission bits such as 0o755 or 0o644`,
      );
    }
    if (typeof entry.source !== 'string' || entry.source === '') {
      throw new GociError('BAD_ARGUMENT', `archive entry ${entry.name} has no source file`);
    }
    return { name: entry.name, source: entry.source, mode: entry.mode, nameBytes: Buffer.from(entry.name, 'utf8') };
  });
  checked.sort((a, b) => compareNames(a.nameBytes, b.nameBytes));
  for (let i = 1; i < checked.length; i++) {
    if (checked[i - 1]!.name === checked[i]!.name) {
      throw new GociError('BAD_ARGUMENT', `archive entry ${checked[i]!.name} appears more than once`);
    }
  }
  return checked;
}

/** An entry's source file, opened for reading. The size comes from the open handle, so it describes the bytes we read. */
export interface OpenSource {
  handle: FileHandle;
  size: number;
}

export async function openSource(entry: ArchiveEntry): Promise<OpenSource> {
  let handle: FileHandle;
  try {
    handle = await open(entry.source, 'r');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      throw new GociError('NOT_FOUND', `archive entry ${entry.name}: source file ${entry.source} does not exist`, {
        cause: error,
      });
    }
    throw new GociError(
      'IO_FAILED',
      `archive entry ${entry.name}: cannot open ${entry.source}: ${(error as Error).message}`,
      { cause: error },
    );
  }
  try {
    const stats = await handle.stat();
    if (!stats.isFile()) {
      throw new GociError('BAD_ARGUMENT', `archive entry ${entry.name}: source ${entry.source} is not a regular file`);
    }
    return { handle, size: stats.size };
  } catch (error) {
    await handle.close();
    throw error;
  }
}

const READ_CHUNK = 1 << 20;

/**
 * Streams a source from its start, failing if it does not hold exactly `size` bytes: the size
 * is already in a header (tar) or the file is read twice (zip), so a file that changes while
 * it is archived must not produce a silently corrupt archive.
 */
export async function* readSource(entry: ArchiveEntry, source: OpenSource): AsyncGenerator<Buffer> {
  let position = 0;
  for (;;) {
    const buffer = Buffer.allocUnsafe(READ_CHUNK);
    const { bytesRead } = await source.handle.read(buffer, 0, READ_CHUNK, position);
    if (bytesRead === 0) break;
    position += bytesRead;
    if (position > source.size) break;
    yield buffer.subarray(0, bytesRead);
  }
  if (position !== source.size) {
    throw new GociError(
      'IO_FAILED',
      `archive entry ${entry.name}: ${entry.source} changed size while it was being archived`,
      {
        hint: 'make sure nothing else writes the build outputs while archives are created',
      },
    );
  }
}

/** The archive's temporary file; every byte goes through here, so the digest and size describe exactly what was written. */
export class ArchiveOutput {
  private readonly hash: Hash = createHash('sha256');
  private written = 0;

  private constructor(private readonly handle: FileHandle) {}

  static async create(path: string): Promise<ArchiveOutput> {
    return new ArchiveOutput(await open(path, 'wx', 0o644));
  }

  get size(): number {
    return this.written;
  }

  async write(chunk: Uint8Array): Promise<void> {
    let offset = 0;
    while (offset < chunk.byteLength) {
      const { bytesWritten } = await this.handle.write(chunk, offset, chunk.byteLength - offset);
      offset += bytesWritten;
    }
    this.hash.update(chunk);
    this.written += chunk.byteLength;
  }

  async close(): Promise<void> {
    await this.handle.close();
  }

  digest(): string {
    return this.hash.digest('hex');
  }
}

/**
 * Runs `produce` against a temporary sibling of `finalPath` and renames the result into place
 * only when it completed. On any failure the temporary file is removed, nothing appears at
 * `finalPath` (an existing file there is left untouched), and the error is a GociError.
 */
export async function writeArchiveAtomically(
  finalPath: string,
  produce: (output: ArchiveOutput) => Promise<void>,
): Promise<ArchiveResult> {
  let tmp: string | undefined;
  let output: ArchiveOutput | undefined;
  try {
    await mkdir(dirname(finalPath), { recursive: true });
    tmp = temporarySibling(finalPath);
    output = await ArchiveOutput.create(tmp);
    await produce(output);
    const closing = output;
    output = undefined;
    await closing.close();
    await moveIntoPlace(tmp, finalPath);
    return { path: finalPath, sha256: closing.digest(), size: closing.size };
  } catch (error) {
    if (output !== undefined) await output.close().catch(() => undefined);
    if (tmp !== undefined) await rm(tmp, { force: true }).catch(() => undefined);
    if (isGociError(error)) throw error;
    throw new GociError('IO_FAILED', `cannot write archive ${finalPath}: ${(error as Error).message}`, {
      cause: error,
    });
  }
}
