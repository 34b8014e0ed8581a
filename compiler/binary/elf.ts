import {
  ByteView,
  UnreadableBinary,
  fileOffsetOf,
  type ByteSource,
  type ExecutableLayout,
  type MappedRange,
} from './layout.js';

const CLASS_32 = 1;
const CLASS_64 = 2;
const DATA_LITTLE_ENDIAN = 1;
const DATA_BIG_ENDIAN = 2;
const OSABI_FREEBSD = 9;

const PT_LOAD = 1;
const PT_DYNAMIC = 2;
const PT_INTERP = 3;
const PF_X = 1;
const PF_W = 2;

const DT_NULL = 0n;
const DT_NEEDED = 1n;
const DT_STRTAB = 5n;
const DT_STRSZ = 10n;

/** Section index meaning "the real value is in section 0", used when a file has ≥ 0xff00 sections. */
const SHN_XINDEX = 0xffff;

interface FileHeader {
  machine: number;
  programHeaderOffset: number;
  programHeaderSize: number;
  programHeaderCount: number;
  sectionHeaderOffset: number;
  sectionHeaderSize: number;
  sectionHeaderCount: number;
  sectionNamesIndex: number;
}

interface ProgramHeader {
  type: number;
  flags: number;
  offset: number;
  address: number;
  fileSize: number;
}

interface SectionHeader {
  nameOffset: number;
  address: number;
  offset: number;
  size: number;
  link: number;
}

/** Reads the parts of an ELF file goci cares about. `file` must start with the ELF magic. */
export function readElf(file: ByteSource): ExecutableLayout {
  const ident = new ByteView(file);
  const wide = isElf64(ident.u8(4, 'ELF class'));
  const view = ident.withByteOrder(isLittleEndian(ident.u8(5, 'ELF byte order')));
  const header = readFileHeader(view, wide);
  const programs = readProgramHeaders(view, wide, header);
  const mappings = loadedRanges(view, programs);
  const interpreter = readInterpreter(view, programs);
  const needed = readNeededLibraries(view, wide, programs, mappings);
  const layout: ExecutableLayout = {
    format: 'elf',
    os: view.u8(7, 'ELF OS ABI') === OSABI_FREEBSD ? 'freebsd' : 'linux',
    arch: goArch(header.machine, wide, view.littleEndian),
    static: interpreter === undefined && needed.length === 0,
    needed,
    mappings,
    image: file,
  };
  if (interpreter !== undefined) layout.interpreter = interpreter;
  const buildInfoAddress = findBuildInfoAddress(view, wide, header, programs);
  if (buildInfoAddress !== undefined) layout.buildInfoAddress = buildInfoAddress;
  return layout;
}

function isElf64(elfClass: number): boolean {
  if (elfClass === CLASS_64) return true;
  if (elfClass === CLASS_32) return false;
  throw new UnreadableBinary(`unknown ELF class ${elfClass}`);
}

function isLittleEndian(data: number): boolean {
  if (data === DATA_LITTLE_ENDIAN) return true;
  if (data === DATA_BIG_ENDIAN) return false;
  throw new UnreadableBinary(`unknown ELF byte order ${data}`);
}

function readFileHeader(view: ByteView, wide: boolean): FileHeader {
  view.need(0, wide ? 64 : 52, 'ELF header');
  // Past e_entry every field shifts by the width of the three address-sized fields.
  const at = (offset32: number, offset64: number): number => (wide ? offset64 : offset32);
  return {
    machine: view.u16(18),
    programHeaderOffset: view.word(at(28, 32), wide),
    sectionHeaderOffset: view.word(at(32, 40), wide),
    programHeaderSize: view.u16(at(42, 54)),
    programHeaderCount: view.u16(at(44, 56)),
    sectionHeaderSize: view.u16(at(46, 58)),
    sectionHeaderCount: view.u16(at(48, 60)),
    sectionNamesIndex: view.u16(at(50, 62)),
  };
}

function readProgramHeaders(view: ByteView, wide: boolean, header: FileHeader): ProgramHeader[] {
  const minimumSize = wide ? 56 : 32;
  if (header.programHeaderCount > 0 && header.programHeaderSize < minimumSize) {
    throw new UnreadableBinary(
      `ELF program headers are ${header.programHeaderSize} bytes, fewer than the ${minimumSize} the format needs`,
    );
  }
  const programs: ProgramHeader[] = [];
  for (let index = 0; index < header.programHeaderCount; index++) {
    const base = header.programHeaderOffset + index * header.programHeaderSize;
    const what = `ELF program header ${index}`;
    view.need(base, minimumSize, what);
    programs.push(
      wide
        ? {
            type: view.u32(base),
            flags: view.u32(base + 4),
            offset: view.u64(base + 8, what),
            address: view.u64(base + 16, what),
            fileSize: view.u64(base + 32, what),
          }
        : {
            type: view.u32(base),
            flags: view.u32(base + 24),
            offset: view.u32(base + 4),
            address: view.u32(base + 8),
            fileSize: view.u32(base + 16),
          },
    );
  }
  return programs;
}

/** Every loadable segment must be present in full; if one is cut short the file is truncated. */
function loadedRanges(view: ByteView, programs: readonly ProgramHeader[]): MappedRange[] {
  return programs
    .filter((program) => program.type === PT_LOAD && program.fileSize > 0)
    .map((program, index) => {
      view.need(program.offset, program.fileSize, `ELF loadable segment ${index}`);
      return { address: program.address, fileOffset: program.offset, fileSize: program.fileSize };
    });
}

function readInterpreter(view: ByteView, programs: readonly ProgramHeader[]): string | undefined {
  const interp = programs.find((program) => program.type === PT_INTERP);
  if (interp === undefined) return undefined;
  return view.cString(interp.offset, interp.offset + interp.fileSize, 'ELF interpreter path');
}

function readNeededLibraries(
  view: ByteView,
  wide: boolean,
  programs: readonly ProgramHeader[],
  mappings: readonly MappedRange[],
): string[] {
  const dynamic = programs.find((program) => program.type === PT_DYNAMIC);
  if (dynamic === undefined) return [];
  const entries = readDynamicEntries(view, wide, dynamic);
  const nameOffsets = entries.filter((entry) => entry.tag === DT_NEEDED).map((entry) => entry.value);
  if (nameOffsets.length === 0) return [];

  // DT_STRTAB is a run-time address, so it has to be mapped back to the file through PT_LOAD.
  const tableAddress = entries.find((entry) => entry.tag === DT_STRTAB)?.value;
  const table = tableAddress === undefined ? undefined : fileOffsetOf(mappings, safeNumber(tableAddress));
  if (table === undefined)
    throw new UnreadableBinary('ELF dynamic section lists libraries but its string table is not in the file');
  const declaredSize = entries.find((entry) => entry.tag === DT_STRSZ)?.value;
  const tableEnd =
    declaredSize === undefined ? table.end : Math.min(table.end, table.offset + safeNumber(declaredSize));

  return nameOffsets.map((nameOffset) =>
    view.cString(table.offset + safeNumber(nameOffset), tableEnd, 'ELF needed library name'),
  );
}

function readDynamicEntries(view: ByteView, wide: boolean, dynamic: ProgramHeader): { tag: bigint; value: bigint }[] {
  const entrySize = wide ? 16 : 8;
  const count = Math.floor(dynamic.fileSize / entrySize);
  view.need(dynamic.offset, count * entrySize, 'ELF dynamic section');
  const entries: { tag: bigint; value: bigint }[] = [];
  for (let index = 0; index < count; index++) {
    const base = dynamic.offset + index * entrySize;
    const tag = wide ? view.u64Big(base) : BigInt(view.u32(base));
    if (tag === DT_NULL) break;
    entries.push({ tag, value: wide ? view.u64Big(base + 8) : BigInt(view.u32(base + 4)) });
  }
  return entries;
}

/** Dynamic-section values we use are offsets into the file, so anything huge is corrupt. */
function safeNumber(value: bigint): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER))
    throw new UnreadableBinary(`ELF dynamic value 0x${value.toString(16)} is too large`);
  return Number(value);
}

/** Go ≥ 1.18 puts build info in its own section; Go's own reader then falls back to the first writable segment. */
function findBuildInfoAddress(
  view: ByteView,
  wide: boolean,
  header: FileHeader,
  programs: readonly ProgramHeader[],
): number | undefined {
  const section = readSectionHeaders(view, wide, header).find((candidate) => candidate.name === '.go.buildinfo');
  if (section !== undefined) return section.address;
  return programs.find((program) => program.type === PT_LOAD && (program.flags & (PF_X | PF_W)) === PF_W)?.address;
}

function readSectionHeaders(view: ByteView, wide: boolean, header: FileHeader): (SectionHeader & { name: string })[] {
  if (header.sectionHeaderOffset === 0) return [];
  const minimumSize = wide ? 64 : 40;
  if (header.sectionHeaderSize < minimumSize) {
    throw new UnreadableBinary(
      `ELF section headers are ${header.sectionHeaderSize} bytes, fewer than the ${minimumSize} the format needs`,
    );
  }
  const readAt = (index: number): SectionHeader =>
    readSectionHeader(view, wide, header.sectionHeaderOffset + index * header.sectionHeaderSize, index);

  // With very many sections the real count and name-table index live in section 0.
  const first = readAt(0);
  const count = header.sectionHeaderCount === 0 ? first.size : header.sectionHeaderCount;
  const namesIndex = header.sectionNamesIndex === SHN_XINDEX ? first.link : header.sectionNamesIndex;
  view.need(header.sectionHeaderOffset, count * header.sectionHeaderSize, 'ELF section header table');
  const sections = Array.from({ length: count }, (_, index) => readAt(index));

  const names = sections[namesIndex];
  if (names === undefined) return sections.map((section) => ({ ...section, name: '' }));
  view.need(names.offset, names.size, 'ELF section name table');
  return sections.map((section) => ({
    ...section,
    name: view.cString(names.offset + section.nameOffset, names.offset + names.size, 'ELF section name'),
  }));
}

function readSectionHeader(view: ByteView, wide: boolean, base: number, index: number): SectionHeader {
  const what = `ELF section header ${index}`;
  view.need(base, wide ? 64 : 40, what);
  return wide
    ? {
        nameOffset: view.u32(base),
        address: view.u64(base + 16, what),
        offset: view.u64(base + 24, what),
        size: view.u64(base + 32, what),
        link: view.u32(base + 40),
      }
    : {
        nameOffset: view.u32(base),
        address: view.u32(base + 12),
        offset: view.u32(base + 16),
        size: view.u32(base + 20),
        link: view.u32(base + 24),
      };
}

function goArch(machine: number, wide: boolean, littleEndian: boolean): string {
  const name = wide ? goArch64(machine, littleEndian) : goArch32(machine, littleEndian);
  if (name === undefined) {
    throw new UnreadableBinary(
      `ELF machine 0x${machine.toString(16)} (${wide ? '64' : '32'}-bit) is not an architecture Go builds for`,
    );
  }
  return name;
}

function goArch64(machine: number, littleEndian: boolean): string | undefined {
  switch (machine) {
    case 0x3e:
      return 'amd64';
    case 0xb7:
      return 'arm64';
    case 0x15:
      return littleEndian ? 'ppc64le' : 'ppc64';
    case 0x16:
      return 's390x';
    case 0xf3:
      return 'riscv64';
    case 0x08:
      return littleEndian ? 'mips64le' : 'mips64';
    case 0x102:
      return 'loong64';
    default:
      return undefined;
  }
}

function goArch32(machine: number, littleEndian: boolean): string | undefined {
  switch (machine) {
    case 0x03:
      return '386';
    case 0x28:
      return 'arm';
    case 0x08:
      return littleEndian ? 'mipsle' : 'mips';
    default:
      return undefined;
  }
}
