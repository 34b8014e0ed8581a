import { closeSync, constants, fstatSync, openSync } from 'node:fs';

import { GociError } from '../../common/errors.js';
import { readBuildInfo } from './buildinfo.js';
import { readElf } from './elf.js';
import { readMachO } from './macho.js';
import { readPe } from './pe.js';
import { UnreadableBinary, bufferSource, fileSource, type ByteSource, type ExecutableLayout } from './layout.js';
import type { BinaryFormat, BinaryReport, BuildSetting } from './types.js';

const HINT_BAD_BINARY =
  'Pass an executable built by `go build` for Linux, Windows or macOS; if it was copied or downloaded, check that the copy is complete.';

/** Describes a compiled program from its bytes alone: platform, linking and Go build info. */
export async function inspectBinary(path: string): Promise<BinaryReport> {
  // Headers and sections are read by range: a multi-gigabyte file costs the pages they name.
  const fd = openForReading(path);
  try {
    const stats = fstatSync(fd);
    if (stats.isDirectory()) throw badBinary(path, 'it is a directory', undefined);
    // A FIFO or device would block or never end.
    if (!stats.isFile()) throw badBinary(path, 'it is not a regular file', undefined);
    return describeOrExplain(fileSource(fd, stats.size), path);
  } catch (error) {
    if (error instanceof GociError) throw error;
    throw readFailure(path, error);
  } finally {
    closeSync(fd);
  }
}

/** As inspectBinary, for bytes already in memory. `source` names them in error messages. */
export function inspectBuffer(bytes: Buffer, source = 'the binary'): BinaryReport {
  return describeOrExplain(bufferSource(bytes), source);
}

function describeOrExplain(bytes: ByteSource, source: string): BinaryReport {
  try {
    return describe(bytes);
  } catch (error) {
    if (error instanceof UnreadableBinary) throw badBinary(source, error.message, error);
    throw error;
  }
}

function describe(bytes: ByteSource): BinaryReport {
  const layout = readLayout(bytes);
  const buildInfo = readBuildInfo(layout);
  const settings = buildInfo?.settings ?? [];
  const variant = platformVariant(layout.arch, settings);
  return {
    format: layout.format,
    // The toolchain knows which OS it targeted; headers only hint (ELF is the same on most Unixes).
    os: settingValue(settings, 'GOOS') ?? layout.os,
    arch: layout.arch,
    ...(variant === undefined ? {} : { variant }),
    static: layout.static,
    ...(layout.interpreter === undefined ? {} : { interpreter: layout.interpreter }),
    needed: layout.needed,
    ...(buildInfo === undefined ? {} : { buildInfo }),
  };
}

function readLayout(bytes: ByteSource): ExecutableLayout {
  if (bytes.length === 0) throw new UnreadableBinary('the file is empty');
  // The first bytes tell the format; a file that is none of them is refused without reading on.
  switch (detectFormat(bytes.read(0, Math.min(8, bytes.length)))) {
    case 'elf':
      return readElf(bytes);
    case 'pe':
      return readPe(bytes);
    case 'macho':
      return readMachO(bytes);
    case undefined:
      throw new UnreadableBinary('it is not an ELF, PE or Mach-O executable');
  }
}

const MACHO_MAGICS = new Set([0xfeedface, 0xfeedfacf]);
const UNIVERSAL_MACHO_MAGICS = new Set([0xcafebabe, 0xcafebabf]);
/** Java class files also start with 0xCAFEBABE, but their next word (the class version) is at least 45. */
const MOST_PLAUSIBLE_ARCHITECTURES = 44;

function detectFormat(bytes: Buffer): BinaryFormat | undefined {
  if (bytes.length >= 4 && bytes.readUInt32BE(0) === 0x7f454c46) return 'elf';
  if (bytes.length >= 2 && bytes.readUInt16BE(0) === 0x4d5a) return 'pe';
  if (bytes.length < 8) return undefined;
  if (MACHO_MAGICS.has(bytes.readUInt32BE(0)) || MACHO_MAGICS.has(bytes.readUInt32LE(0))) return 'macho';
  if (UNIVERSAL_MACHO_MAGICS.has(bytes.readUInt32BE(0)) && bytes.readUInt32BE(4) <= MOST_PLAUSIBLE_ARCHITECTURES)
    return 'macho';
  return undefined;
}

/** Normalised as containerd does, so the result can go straight into an OCI platform. */
function platformVariant(arch: string, settings: readonly BuildSetting[]): string | undefined {
  if (arch === 'arm') {
    // Newer Go accepts GOARM=7,softfloat; the float mode is not part of the platform.
    const level = settingValue(settings, 'GOARM')?.split(',')[0];
    return level ? `v${level}` : undefined;
  }
  if (arch === 'amd64') {
    const level = settingValue(settings, 'GOAMD64');
    return level !== undefined && level !== 'v1' ? level : undefined;
  }
  // arm64's only variant, v8, is normalised away; other architectures have none.
  return undefined;
}

function settingValue(settings: readonly BuildSetting[], key: string): string | undefined {
  const value = settings.find((setting) => setting.key === key)?.value;
  return value === '' ? undefined : value;
}

function openForReading(path: string): number {
  try {
    // Non-blocking, so a FIFO is refused by the type check below instead of waiting for a writer.
    return openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      throw new GociError('NOT_FOUND', `binary not found: ${path}`, {
        hint: 'Check the path, or build the program first (go build -o <path>).',
        cause: error,
      });
    }
    throw readFailure(path, error);
  }
}

function readFailure(path: string, error: unknown): GociError {
  return new GociError('IO_FAILED', `cannot read ${path}: ${(error as Error).message}`, {
    hint: 'Check that the file exists and the current user may read it.',
    cause: error,
  });
}

function badBinary(source: string, reason: string, cause: unknown): GociError {
  return new GociError('BAD_BINARY', `cannot read ${source} as a program: ${reason}`, { hint: HINT_BAD_BINARY, cause });
}
