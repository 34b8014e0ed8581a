import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { displayPath } from '../common/display-path.js';
import { GociError } from '../common/errors.js';

/**
 * The files an image is stored as, read by their path relative to its root: an OCI layout
 * directory (`index.json`, `blobs/sha256/<hex>`) or a tar (an OCI archive, a docker archive).
 * Paths are `/`-separated, without a leading `/` or `./`.
 */
export interface ImageFiles {
  /** How messages name the source: `the OCI layout dist/oci`, `the archive hello.tar`. */
  readonly description: string;
  /** Its path as messages show it: `dist/oci`, `hello.tar`. */
  readonly location: string;
  /** The size of the regular file at `path`, or undefined when there is none. */
  size(path: string): Promise<number | undefined>;
  /** Up to `length` bytes from `start` (fewer at the end of the file). */
  read(path: string, start: number, length: number): Promise<Buffer>;
  /** The whole file as a stream of chunks (bounded memory). */
  stream(path: string): Readable;
}

/** What a blob must be: its digest (`sha256:<hex>`) when the source names one, and its size. */
export interface BlobExpectation {
  digest?: string;
  size?: number;
}

/** Manifests, indexes and configs are read whole; nothing this large is one of them. */
export const MAX_JSON_BLOB = 4 << 20;
const SHA256_DIGEST = /^sha256:([0-9a-f]{64})$/;
const CORRUPT_HINT = 'the image is damaged or was changed after it was written: write or copy it again';

/** Up to `length` bytes of a file from `start` (fewer at its end). */
export async function readRange(file: string, start: number, length: number): Promise<Buffer> {
  const handle = await open(file, 'r');
  try {
    const buffer = Buffer.alloc(length);
    let filled = 0;
    while (filled < length) {
      const { bytesRead } = await handle.read(buffer, filled, length - filled, start + filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    return buffer.subarray(0, filled);
  } finally {
    await handle.close();
  }
}

/** The files of a directory (an OCI layout). */
export function directoryFiles(dir: string): ImageFiles {
  const full = (path: string): string => {
    if (path.startsWith('/') || path.split('/').includes('..'))
      throw new GociError('BAD_ARGUMENT', `${JSON.stringify(path)} is not a path inside ${displayPath(dir)}`);
    return join(dir, path);
  };
  return {
    description: `the OCI layout ${displayPath(dir)}`,
    location: displayPath(dir),
    async size(path) {
      const stats = await stat(full(path)).catch(() => undefined);
      return stats?.isFile() ? stats.size : undefined;
    },
    async read(path, start, length) {
      return readRange(full(path), start, length);
    },
    stream(path) {
      return createReadStream(full(path), { highWaterMark: 1 << 20 });
    },
  };
}

/** The hex of a `sha256:<hex>` digest; any other algorithm or spelling is refused. */
export function digestHex(digest: unknown, role: string): string {
  const match = typeof digest === 'string' ? SHA256_DIGEST.exec(digest) : null;
  if (match === null) {
    throw new GociError(
      'IO_FAILED',
      `${role} names the digest ${JSON.stringify(digest)}, which is not sha256:<64 lowercase hex digits>`,
      {
        hint: 'goci reads images whose blobs are addressed by sha256, as every registry and builder writes them',
      },
    );
  }
  return match[1]!;
}

/** Where an OCI layout (directory or archive) keeps the blob with this digest. */
export function blobFile(digest: string, role: string): string {
  return `blobs/sha256/${digestHex(digest, role)}`;
}

export function missingBlob(files: ImageFiles, path: string, role: string): GociError {
  return new GociError('NOT_FOUND', `${role} (${path}) is missing from ${files.description}`, { hint: CORRUPT_HINT });
}

export function digestMismatch(files: ImageFiles, role: string, expected: string, actual: string): GociError {
  return new GociError(
    'IO_FAILED',
    `blob ${expected} (${role}) in ${files.description}: digest mismatch, its bytes hash to ${actual}`,
    { hint: CORRUPT_HINT },
  );
}

function sizeMismatch(files: ImageFiles, role: string, name: string, expected: number, actual: number): GociError {
  return new GociError(
    'IO_FAILED',
    `blob ${name} (${role}) in ${files.description}: size mismatch, it has ${actual} bytes where ${expected} were announced`,
    { hint: CORRUPT_HINT },
  );
}

/** The size of the file at `path`, failing with NOT_FOUND when it is missing or is not the announced size. */
export async function blobSize(
  files: ImageFiles,
  path: string,
  expect: BlobExpectation,
  role: string,
): Promise<number> {
  const size = await files.size(path);
  if (size === undefined) throw missingBlob(files, path, role);
  if (expect.size !== undefined && size !== expect.size)
    throw sizeMismatch(files, role, expect.digest ?? path, expect.size, size);
  return size;
}

/**
 * Counts and hashes a blob's bytes as they go by; `check` then fails unless they were exactly
 * the expected size and digest.
 */
export class BlobCheck {
  private readonly hash = createHash('sha256');
  private seen = 0;

  constructor(
    private readonly files: ImageFiles,
    private readonly path: string,
    private readonly expect: BlobExpectation,
    private readonly role: string,
  ) {}

  update(chunk: Buffer): void {
    this.hash.update(chunk);
    this.seen += chunk.byteLength;
  }

  /** Call once, after the last byte. Returns the blob's digest. */
  check(): string {
    const actual = `sha256:${this.hash.digest('hex')}`;
    if (this.expect.digest !== undefined && actual !== this.expect.digest)
      throw digestMismatch(this.files, this.role, this.expect.digest, actual);
    if (this.expect.size !== undefined && this.seen !== this.expect.size)
      throw sizeMismatch(this.files, this.role, this.expect.digest ?? this.path, this.expect.size, this.seen);
    return actual;
  }
}

/** Re-reads a whole blob only to check it: after its content failed to parse, this tells corruption from a bad format. */
export async function verifyBlob(
  files: ImageFiles,
  path: string,
  expect: BlobExpectation,
  role: string,
): Promise<void> {
  const check = new BlobCheck(files, path, expect, role);
  for await (const chunk of files.stream(path) as AsyncIterable<Buffer>) check.update(chunk);
  check.check();
}

/** A small blob read whole, its size and digest checked before anything reads it. */
export async function readSmallBlob(
  files: ImageFiles,
  path: string,
  expect: BlobExpectation,
  role: string,
): Promise<{ bytes: Buffer; digest: string }> {
  const size = await blobSize(files, path, expect, role);
  if (size > MAX_JSON_BLOB) {
    throw new GociError(
      'IO_FAILED',
      `${role} (${path}) in ${files.description} has ${size} bytes, too large for an image document`,
    );
  }
  const bytes = await files.read(path, 0, size);
  const check = new BlobCheck(files, path, { ...expect, size }, role);
  check.update(bytes);
  return { bytes, digest: check.check() };
}

/** A JSON document (manifest, index, config), verified, then parsed. */
export async function readJsonBlob(
  files: ImageFiles,
  path: string,
  expect: BlobExpectation,
  role: string,
): Promise<{ document: unknown; digest: string; size: number }> {
  const { bytes, digest } = await readSmallBlob(files, path, expect, role);
  try {
    return { document: JSON.parse(bytes.toString('utf8')) as unknown, digest, size: bytes.byteLength };
  } catch (error) {
    throw new GociError(
      'IO_FAILED',
      `${role} (${path}) in ${files.description} is not JSON: ${(error as Error).message}`,
      { cause: error },
    );
  }
}

/** A JSON object's field as a record, or a one-line error naming what was expected. */
export function objectOf(value: unknown, what: string, files: ImageFiles): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new GociError('IO_FAILED', `${what} in ${files.description} is not a JSON object`);
  }
  return value as Record<string, unknown>;
}
