/**
 * Decodes the build information the Go toolchain embeds in every program, the same way Go's
 * debug/buildinfo and runtime/debug.ParseBuildInfo do (Go 1.19 sources), without running `go`.
 */
import { MAX_READ, UnreadableBinary, fileOffsetOf, type ByteSource, type ExecutableLayout } from './layout.js';
import type { BuildSetting, GoBuildInfo, Module } from './types.js';

const MAGIC = Buffer.from('\xff Go buildinf:', 'latin1');
const BLOB_ALIGNMENT = 16;
const BLOB_HEADER_SIZE = 32;
/** Go only searches this far past the address the headers give; the linker puts the blob near the start. */
const SEARCH_WINDOW = 64 * 1024;
/** How much of the blob is read: Go 1.19 decodes the inline strings from a 64 KiB window. */
const BLOB_READ = 1024 * 1024;
/** The whole-file scan reads this much at a time. */
const SCAN_CHUNK = 4 * 1024 * 1024;
const FLAG_BIG_ENDIAN = 1;
/** Set by Go ≥ 1.18: the strings follow the header instead of being pointed to. */
const FLAG_INLINE_STRINGS = 2;
/** cmd/go wraps modinfo in 16 arbitrary bytes on each side so the linker can find it. */
const SENTINEL_LENGTH = 16;
const NEWLINE = 0x0a;

interface RawBuildInfo {
  version: string;
  modinfo: Buffer;
}

/** Build info of a Go program, or undefined when the file holds none (not Go, or Go too old). */
export function readBuildInfo(layout: ExecutableLayout): GoBuildInfo | undefined {
  const blob = locateBlob(layout);
  if (blob === undefined) return undefined;
  const raw = decodeBlob(blob, layout);
  if (raw === undefined || raw.version === '') return undefined;
  return parseModInfo(raw.version, stripSentinels(raw.modinfo));
}

/** The file bytes from the blob's magic onwards (at most BLOB_READ of them). */
function locateBlob(layout: ExecutableLayout): Buffer | undefined {
  if (layout.buildInfoAddress !== undefined) {
    const located = fileOffsetOf(layout.mappings, layout.buildInfoAddress);
    if (located !== undefined) {
      const window = readRange(layout.image, located.offset, Math.min(located.end, located.offset + SEARCH_WINDOW));
      const at = findAlignedMagic(window);
      if (at !== undefined) return readRange(layout.image, located.offset + at, located.offset + at + BLOB_READ);
    }
  }
  // The headers did not lead there (odd section layout, post-processed file), but the linker
  // always aligns the blob, so an aligned scan of the whole image still finds it.
  const at = scanForMagic(layout.image);
  return at === undefined ? undefined : readRange(layout.image, at, at + BLOB_READ);
}

/** Bytes [start, end) of the source, clipped to its length. */
function readRange(source: ByteSource, start: number, end: number): Buffer {
  const clipped = Math.min(end, source.length);
  return clipped > start ? source.read(start, clipped - start) : Buffer.alloc(0);
}

/** The first aligned magic in the whole source, read a chunk at a time so memory stays bounded. */
function scanForMagic(source: ByteSource): number | undefined {
  // Chunks start on the alignment, and overlap by less than one magic so none is cut in two.
  const overlap = BLOB_ALIGNMENT * Math.ceil(MAGIC.length / BLOB_ALIGNMENT);
  for (let start = 0; start < source.length; start += SCAN_CHUNK - overlap) {
    const chunk = readRange(source, start, start + SCAN_CHUNK);
    for (let at = chunk.indexOf(MAGIC); at >= 0; at = chunk.indexOf(MAGIC, at + 1)) {
      if ((start + at) % BLOB_ALIGNMENT === 0 && source.length - (start + at) >= BLOB_HEADER_SIZE) return start + at;
    }
    if (start + SCAN_CHUNK >= source.length) break;
  }
  return undefined;
}

function findAlignedMagic(bytes: Buffer): number | undefined {
  for (let at = bytes.indexOf(MAGIC); at >= 0; at = bytes.indexOf(MAGIC, at + 1)) {
    if (at % BLOB_ALIGNMENT === 0 && bytes.length - at >= BLOB_HEADER_SIZE) return at;
  }
  return undefined;
}

/** Header: magic (14 bytes), pointer size, flags, then two pointers or padding up to 32 bytes. */
function decodeBlob(blob: Buffer, layout: ExecutableLayout): RawBuildInfo | undefined {
  const pointerSize = blob.readUInt8(14);
  const flags = blob.readUInt8(15);
  if ((flags & FLAG_INLINE_STRINGS) !== 0) {
    const version = readLengthPrefixed(blob, BLOB_HEADER_SIZE);
    if (version === undefined) return undefined;
    // As in Go, unreadable module info still leaves a usable Go version.
    const modinfo = readLengthPrefixed(blob, version.next);
    return { version: version.bytes.toString('utf8'), modinfo: modinfo?.bytes ?? Buffer.alloc(0) };
  }
  if (pointerSize !== 4 && pointerSize !== 8) return undefined;
  const bigEndian = (flags & FLAG_BIG_ENDIAN) !== 0;
  const version = readGoString(layout, readPointer(blob, 16, pointerSize, bigEndian), pointerSize, bigEndian);
  const modinfo = readGoString(
    layout,
    readPointer(blob, 16 + pointerSize, pointerSize, bigEndian),
    pointerSize,
    bigEndian,
  );
  if (version === undefined) return undefined;
  return { version: version.toString('utf8'), modinfo: modinfo ?? Buffer.alloc(0) };
}

/** A Go string header ({data pointer, length}) at a virtual address, followed to its bytes. */
function readGoString(
  layout: ExecutableLayout,
  address: number | undefined,
  pointerSize: 4 | 8,
  bigEndian: boolean,
): Buffer | undefined {
  if (address === undefined) return undefined;
  const header = readVirtual(layout, address, 2 * pointerSize);
  if (header === undefined || header.length < 2 * pointerSize) return undefined;
  const dataAddress = readPointer(header, 0, pointerSize, bigEndian);
  const length = readPointer(header, pointerSize, pointerSize, bigEndian);
  if (dataAddress === undefined || length === undefined) return undefined;
  const data = readVirtual(layout, dataAddress, length);
  return data !== undefined && data.length === length ? data : undefined;
}

/** Undefined for values no file we hold in memory could contain. Callers guarantee the bytes exist. */
function readPointer(bytes: Buffer, offset: number, pointerSize: 4 | 8, bigEndian: boolean): number | undefined {
  if (pointerSize === 4) return bigEndian ? bytes.readUInt32BE(offset) : bytes.readUInt32LE(offset);
  const value = bigEndian ? bytes.readBigUInt64BE(offset) : bytes.readBigUInt64LE(offset);
  return value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : undefined;
}

/** Up to maxLength file bytes starting at a virtual address, stopping where its mapping ends. */
function readVirtual(layout: ExecutableLayout, address: number, maxLength: number): Buffer | undefined {
  const located = fileOffsetOf(layout.mappings, address);
  if (located === undefined || maxLength > MAX_READ) return undefined;
  return readRange(layout.image, located.offset, Math.min(located.end, located.offset + maxLength));
}

function readLengthPrefixed(bytes: Buffer, offset: number): { bytes: Buffer; next: number } | undefined {
  const length = readUvarint(bytes, offset);
  if (length === undefined) return undefined;
  const end = length.next + length.value;
  if (end > bytes.length) return undefined;
  return { bytes: bytes.subarray(length.next, end), next: end };
}

/** encoding/binary's Uvarint, limited to 7 bytes (49 bits) so the result is always an exact number. */
function readUvarint(bytes: Buffer, offset: number): { value: number; next: number } | undefined {
  let value = 0;
  let scale = 1;
  for (let at = offset; at < bytes.length && at < offset + 7; at++) {
    const byte = bytes.readUInt8(at);
    value += (byte & 0x7f) * scale;
    if (byte < 0x80) return { value, next: at + 1 };
    scale *= 0x80;
  }
  return undefined;
}

/** Go checks the byte before the closing sentinel, and treats anything else as "no module info". */
function stripSentinels(modinfo: Buffer): string {
  if (modinfo.length < 2 * SENTINEL_LENGTH + 1 || modinfo[modinfo.length - SENTINEL_LENGTH - 1] !== NEWLINE) return '';
  return modinfo.toString('utf8', SENTINEL_LENGTH, modinfo.length - SENTINEL_LENGTH);
}

/**
 * runtime/debug.ParseBuildInfo: the text cmd/go writes, one tab-separated record per line.
 * Unknown lines are skipped, as Go does, so newer toolchains' additions do not break us.
 */
export function parseModInfo(goVersion: string, text: string): GoBuildInfo {
  const info: GoBuildInfo = { goVersion, path: '', deps: [], settings: [] };
  // Go ignores a final line without a newline, so the piece after the last '\n' is dropped.
  const lines = text.split('\n').slice(0, -1);
  /** The module a following "=>" line replaces. */
  let replaceable: Module | undefined;

  lines.forEach((line, index) => {
    // Every record has a tab after its keyword; Go skips anything else (blank lines included).
    if (!line.includes('\t')) return;
    const bad = (reason: string): UnreadableBinary =>
      new UnreadableBinary(`Go build info line ${index + 1}: ${reason}`);
    const [kind, ...fields] = line.split('\t');
    switch (kind) {
      case 'path':
        info.path = line.slice('path\t'.length);
        break;
      case 'mod':
        info.main = readModule(fields, bad);
        replaceable = info.main;
        break;
      case 'dep': {
        const dep = readModule(fields, bad);
        info.deps.push(dep);
        replaceable = dep;
        break;
      }
      case '=>':
        if (fields.length !== 3) throw bad(`expected 3 columns for replacement; got ${fields.length}`);
        if (replaceable === undefined) throw bad('replacement with no module on previous line');
        replaceable.replace = module(fields[0] ?? '', fields[1] ?? '', fields[2] ?? '');
        replaceable = undefined;
        break;
      case 'build':
        info.settings.push(parseBuildSetting(line.slice('build\t'.length), bad));
        break;
      default:
        break;
    }
  });
  return info;
}

function readModule(fields: string[], bad: (reason: string) => Error): Module {
  if (fields.length !== 2 && fields.length !== 3) throw bad(`expected 2 or 3 columns; got ${fields.length}`);
  return module(fields[0] ?? '', fields[1] ?? '', fields[2] ?? '');
}

function module(path: string, version: string, sum: string): Module {
  return sum === '' ? { path, version } : { path, version, sum };
}

/** `key=value`, where either side is Go-quoted when it holds characters that would be ambiguous. */
function parseBuildSetting(text: string, bad: (reason: string) => Error): BuildSetting {
  if (text === '') throw bad("build line missing '='");
  if (text.startsWith('=')) throw bad('build line with missing key');

  let key: string;
  let rawValue: string;
  if (text.startsWith('"') || text.startsWith('`')) {
    const quoted = readQuotedPrefix(text);
    if (quoted === undefined) throw bad('invalid quoted key in build line');
    if (text.length === quoted.raw.length) throw bad("build line missing '=' after quoted key");
    if (text[quoted.raw.length] !== '=') throw bad(`unexpected character after quoted key: ${text[quoted.raw.length]}`);
    key = quoted.value;
    rawValue = text.slice(quoted.raw.length + 1);
  } else {
    const equals = text.indexOf('=');
    if (equals < 0) throw bad("build line missing '=' after key");
    key = text.slice(0, equals);
    rawValue = text.slice(equals + 1);
    if (/[= \t\r\n"`]/.test(key)) throw bad(`unquoted key ${key} must be quoted`);
  }

  if (!rawValue.startsWith('"') && !rawValue.startsWith('`')) {
    if (/[ \t\r\n"`]/.test(rawValue)) throw bad(`unquoted value ${rawValue} must be quoted`);
    return { key, value: rawValue };
  }
  const value = unquoteGoString(rawValue);
  if (value === undefined) throw bad('invalid quoted value in build line');
  return { key, value };
}

// ---------------------------------------------------------------------------------------------
// Go string literals (strconv.Unquote / strconv.QuotedPrefix), for "…" and `…` forms.
// Escapes can produce arbitrary bytes (\xff, \377), so the value is assembled as UTF-8 bytes and
// decoded once at the end, exactly where Go would convert []byte to string.
// ---------------------------------------------------------------------------------------------

/** strconv.Unquote for double-quoted and raw strings; undefined where Go reports a syntax error. */
export function unquoteGoString(literal: string): string | undefined {
  const prefix = readQuotedPrefix(literal);
  return prefix !== undefined && prefix.raw.length === literal.length ? prefix.value : undefined;
}

/** The quoted literal at the start of `text` (as strconv.QuotedPrefix finds it) and its value. */
export function readQuotedPrefix(text: string): { raw: string; value: string } | undefined {
  if (text.startsWith('`')) return readRawString(text);
  if (text.startsWith('"')) return readInterpretedString(text);
  return undefined;
}

function readRawString(text: string): { raw: string; value: string } | undefined {
  const end = text.indexOf('`', 1);
  if (end < 0) return undefined;
  // Go discards carriage returns inside raw strings, as the compiler does for raw literals.
  return { raw: text.slice(0, end + 1), value: text.slice(1, end).replaceAll('\r', '') };
}

function readInterpretedString(text: string): { raw: string; value: string } | undefined {
  const bytes: number[] = [];
  let at = 1;
  while (at < text.length && text[at] !== '"') {
    if (text[at] === '\n') return undefined;
    if (text[at] === '\\') {
      const escaped = readEscape(text, at + 1);
      if (escaped === undefined) return undefined;
      bytes.push(...escaped.bytes);
      at = escaped.next;
    } else {
      const codePoint = text.codePointAt(at) ?? 0;
      bytes.push(...utf8(codePoint));
      at += codePoint > 0xffff ? 2 : 1;
    }
  }
  if (at >= text.length) return undefined;
  return { raw: text.slice(0, at + 1), value: Buffer.from(bytes).toString('utf8') };
}

const SINGLE_LETTER_ESCAPES = new Map<string, number>([
  ['a', 0x07],
  ['b', 0x08],
  ['f', 0x0c],
  ['n', 0x0a],
  ['r', 0x0d],
  ['t', 0x09],
  ['v', 0x0b],
  ['\\', 0x5c],
  ['"', 0x22],
]);
const HEX_DIGITS = new Map([
  ['x', 2],
  ['u', 4],
  ['U', 8],
]);

/** The escape whose letter is at `at` (just after the backslash). `\'` is not allowed in "…". */
function readEscape(text: string, at: number): { bytes: number[]; next: number } | undefined {
  const letter = text[at] ?? '';
  const single = SINGLE_LETTER_ESCAPES.get(letter);
  if (single !== undefined) return { bytes: [single], next: at + 1 };

  const hexLength = HEX_DIGITS.get(letter);
  if (hexLength !== undefined) {
    const digits = text.slice(at + 1, at + 1 + hexLength);
    if (digits.length !== hexLength || !/^[0-9a-fA-F]+$/.test(digits)) return undefined;
    const value = Number.parseInt(digits, 16);
    const next = at + 1 + hexLength;
    // \x is one raw byte; \u and \U are code points and must be valid ones.
    if (letter === 'x') return { bytes: [value], next };
    if (value > 0x10ffff || (value >= 0xd800 && value <= 0xdfff)) return undefined;
    return { bytes: utf8(value), next };
  }

  const octal = text.slice(at, at + 3);
  if (/^[0-7]{3}$/.test(octal)) {
    const value = Number.parseInt(octal, 8);
    return value > 0xff ? undefined : { bytes: [value], next: at + 3 };
  }
  return undefined;
}

function utf8(codePoint: number): number[] {
  return [...Buffer.from(String.fromCodePoint(codePoint), 'utf8')];
}
