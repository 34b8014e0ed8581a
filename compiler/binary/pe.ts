import { ByteView, UnreadableBinary, type ByteSource, type ExecutableLayout, type MappedRange } from './layout.js';

const PE_SIGNATURE = 0x00004550; // "PE\0\0" read little-endian
const OPTIONAL_MAGIC_PE32 = 0x10b;
const OPTIONAL_MAGIC_PE32_PLUS = 0x20b;
const IMPORT_DIRECTORY_INDEX = 1;
const IMPORT_DESCRIPTOR_SIZE = 20;
const SECTION_HEADER_SIZE = 40;

const IMAGE_SCN_CNT_INITIALIZED_DATA = 0x00000040;
const IMAGE_SCN_MEM_READ = 0x40000000;
const IMAGE_SCN_MEM_WRITE = 0x80000000;
const IMAGE_SCN_ALIGN_32BYTES = 0x00600000;

interface Section {
  virtualAddress: number;
  rawOffset: number;
  rawSize: number;
  characteristics: number;
}

interface OptionalHeader {
  imageBase: number;
  importTable?: { rva: number; size: number };
}

/** Reads the parts of a PE (Windows) executable goci cares about. `file` must start with "MZ". */
export function readPe(file: ByteSource): ExecutableLayout {
  const view = new ByteView(file, true);
  const peOffset = view.u32(0x3c, 'DOS header pointer to the PE header');
  if (view.u32(peOffset, 'PE signature') !== PE_SIGNATURE) {
    throw new UnreadableBinary('file starts with "MZ" but has no PE header (a DOS program?)');
  }
  const coff = peOffset + 4;
  view.need(coff, 20, 'COFF file header');
  const machine = view.u16(coff);
  const sectionCount = view.u16(coff + 2);
  const optionalSize = view.u16(coff + 16);
  const optional = readOptionalHeader(view, coff + 20, optionalSize);
  const sections = readSections(view, coff + 20 + optionalSize, sectionCount);
  const needed = optional.importTable === undefined ? [] : readImportedDlls(view, sections, optional.importTable.rva);

  const layout: ExecutableLayout = {
    format: 'pe',
    os: 'windows',
    arch: goArch(machine),
    // Every Windows program imports at least kernel32.dll, so "static" here means "imports nothing at all".
    static: needed.length === 0,
    needed,
    mappings: sections
      .filter((section) => section.rawSize > 0)
      .map((section): MappedRange => mappedRange(section, optional.imageBase)),
    image: file,
  };
  const dataSection = sections.find(isGoDataSection);
  if (dataSection !== undefined) layout.buildInfoAddress = optional.imageBase + dataSection.virtualAddress;
  return layout;
}

function readOptionalHeader(view: ByteView, base: number, size: number): OptionalHeader {
  view.need(base, size, 'PE optional header');
  const magic = view.u16(base, 'PE optional header magic');
  if (magic !== OPTIONAL_MAGIC_PE32 && magic !== OPTIONAL_MAGIC_PE32_PLUS) {
    throw new UnreadableBinary(`unknown PE optional header magic 0x${magic.toString(16)}`);
  }
  const plus = magic === OPTIONAL_MAGIC_PE32_PLUS;
  const imageBase = plus ? view.u64(base + 24, 'PE image base') : view.u32(base + 28, 'PE image base');
  const directoryCountOffset = base + (plus ? 108 : 92);
  const directories = directoryCountOffset + 4;
  const importEntry = directories + IMPORT_DIRECTORY_INDEX * 8;

  // The directory table is optional and variable length; only trust entries inside the header.
  if (directories - base > size || importEntry + 8 - base > size) return { imageBase };
  if (view.u32(directoryCountOffset) <= IMPORT_DIRECTORY_INDEX) return { imageBase };
  const rva = view.u32(importEntry);
  const tableSize = view.u32(importEntry + 4);
  return rva === 0 || tableSize === 0 ? { imageBase } : { imageBase, importTable: { rva, size: tableSize } };
}

function readSections(view: ByteView, base: number, count: number): Section[] {
  view.need(base, count * SECTION_HEADER_SIZE, 'PE section table');
  return Array.from({ length: count }, (_, index) => {
    const at = base + index * SECTION_HEADER_SIZE;
    const section = {
      virtualAddress: view.u32(at + 12),
      rawSize: view.u32(at + 16),
      rawOffset: view.u32(at + 20),
      characteristics: view.u32(at + 36),
    };
    // A section whose bytes are missing means the file was cut short.
    if (section.rawSize > 0) view.need(section.rawOffset, section.rawSize, `PE section ${index}`);
    return section;
  });
}

/** Go's debug/buildinfo looks for build info in the first plain read-write data section. */
function isGoDataSection(section: Section): boolean {
  const wanted = IMAGE_SCN_CNT_INITIALIZED_DATA | IMAGE_SCN_MEM_READ | IMAGE_SCN_MEM_WRITE;
  return (
    section.virtualAddress !== 0 &&
    section.rawSize !== 0 &&
    (section.characteristics & ~IMAGE_SCN_ALIGN_32BYTES) >>> 0 === wanted >>> 0
  );
}

/** Pointers inside a PE image are absolute, so mappings include the image base. */
function mappedRange(section: Section, imageBase: number): MappedRange {
  return { address: imageBase + section.virtualAddress, fileOffset: section.rawOffset, fileSize: section.rawSize };
}

function readImportedDlls(view: ByteView, sections: readonly Section[], tableRva: number): string[] {
  const names: string[] = [];
  for (
    let descriptor = fileOffsetOfRva(sections, tableRva, 'PE import table');
    ;
    descriptor += IMPORT_DESCRIPTOR_SIZE
  ) {
    view.need(descriptor, IMPORT_DESCRIPTOR_SIZE, 'PE import descriptor');
    const nameRva = view.u32(descriptor + 12);
    // The table ends with an all-zero descriptor; a zero name is as far as anyone can read.
    if (nameRva === 0) return names;
    const nameOffset = fileOffsetOfRva(sections, nameRva, 'PE import DLL name');
    names.push(view.cString(nameOffset, Math.min(view.length, nameOffset + 4096), 'PE import DLL name'));
  }
}

function fileOffsetOfRva(sections: readonly Section[], rva: number, what: string): number {
  const section = sections.find(
    (candidate) => candidate.virtualAddress <= rva && rva < candidate.virtualAddress + candidate.rawSize,
  );
  if (section === undefined)
    throw new UnreadableBinary(`${what} at RVA 0x${rva.toString(16)} is not inside any section`);
  return section.rawOffset + (rva - section.virtualAddress);
}

function goArch(machine: number): string {
  switch (machine) {
    case 0x8664:
      return 'amd64';
    case 0x14c:
      return '386';
    case 0xaa64:
      return 'arm64';
    case 0x1c4:
      return 'arm';
    default:
      throw new UnreadableBinary(`PE machine 0x${machine.toString(16)} is not an architecture Go builds for`);
  }
}
