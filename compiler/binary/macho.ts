import {
  ByteView,
  UnreadableBinary,
  sliceSource,
  type ByteSource,
  type ExecutableLayout,
  type MappedRange,
} from './layout.js';

const MH_MAGIC = 0xfeedface;
const MH_MAGIC_64 = 0xfeedfacf;
const FAT_MAGIC = 0xcafebabe;
const FAT_MAGIC_64 = 0xcafebabf;

const LC_SEGMENT = 0x1;
const LC_SEGMENT_64 = 0x19;
/** Every load command that makes dyld open another library at start-up. */
const LIBRARY_COMMANDS = new Set([
  0xc, // LC_LOAD_DYLIB
  0x80000018, // LC_LOAD_WEAK_DYLIB
  0x8000001f, // LC_REEXPORT_DYLIB
  0x20, // LC_LAZY_LOAD_DYLIB
  0x80000023, // LC_LOAD_UPWARD_DYLIB
]);

interface Segment {
  name: string;
  address: number;
  fileOffset: number;
  fileSize: number;
  sections: { name: string; segmentName: string; address: number }[];
}

interface LoadCommands {
  segments: Segment[];
  libraries: string[];
}

/** Reads a Mach-O file, or the first architecture of a universal (fat) one. */
export function readMachO(file: ByteSource): ExecutableLayout {
  const magic = new ByteView(file, false).u32(0, 'Mach-O magic');
  if (magic === FAT_MAGIC || magic === FAT_MAGIC_64) return readThin(firstArchitecture(file, magic === FAT_MAGIC_64));
  return readThin(file);
}

/** Universal headers are always big-endian; offsets in the chosen slice are relative to the slice. */
function firstArchitecture(file: ByteSource, wide: boolean): ByteSource {
  const view = new ByteView(file, false);
  if (view.u32(4, 'universal Mach-O architecture count') === 0)
    throw new UnreadableBinary('universal Mach-O holds no architectures');
  const entry = 8;
  const offset = wide
    ? view.u64(entry + 8, 'universal Mach-O slice offset')
    : view.u32(entry + 8, 'universal Mach-O slice offset');
  const size = wide
    ? view.u64(entry + 16, 'universal Mach-O slice size')
    : view.u32(entry + 12, 'universal Mach-O slice size');
  view.need(offset, size, 'first architecture of universal Mach-O');
  return sliceSource(file, offset, size);
}

function readThin(image: ByteSource): ExecutableLayout {
  const { view, wide } = thinView(image);
  const headerSize = wide ? 32 : 28;
  view.need(0, headerSize, 'Mach-O header');
  const cpuType = view.u32(4);
  const commands = readLoadCommands(view, headerSize, view.u32(16), view.u32(20));

  const layout: ExecutableLayout = {
    format: 'macho',
    os: 'darwin',
    arch: goArch(cpuType),
    // Since Go 1.11 every darwin binary links libSystem, so in practice this is always false.
    static: commands.libraries.length === 0,
    needed: commands.libraries,
    mappings: commands.segments.filter((segment) => segment.fileSize > 0).map(mappedRange),
    image,
  };
  const buildInfoAddress = findBuildInfoAddress(commands.segments);
  if (buildInfoAddress !== undefined) layout.buildInfoAddress = buildInfoAddress;
  return layout;
}

function mappedRange(segment: Segment): MappedRange {
  return { address: segment.address, fileOffset: segment.fileOffset, fileSize: segment.fileSize };
}

/** The magic's byte order says how the whole file is written. */
function thinView(image: ByteSource): { view: ByteView; wide: boolean } {
  const little = new ByteView(image, true);
  const magic = little.u32(0, 'Mach-O magic');
  if (magic === MH_MAGIC || magic === MH_MAGIC_64) return { view: little, wide: magic === MH_MAGIC_64 };
  const big = little.withByteOrder(false);
  const swapped = big.u32(0);
  if (swapped === MH_MAGIC || swapped === MH_MAGIC_64) return { view: big, wide: swapped === MH_MAGIC_64 };
  throw new UnreadableBinary(`unknown Mach-O magic 0x${magic.toString(16)}`);
}

function readLoadCommands(view: ByteView, headerSize: number, count: number, totalSize: number): LoadCommands {
  const end = headerSize + totalSize;
  view.need(headerSize, totalSize, 'Mach-O load commands');
  const segments: Segment[] = [];
  const libraries: string[] = [];
  let offset = headerSize;
  for (let index = 0; index < count; index++) {
    const what = `Mach-O load command ${index}`;
    view.need(offset, 8, what);
    const command = view.u32(offset);
    const size = view.u32(offset + 4);
    // A size below 8 would loop forever; one past the table means the header lies.
    if (size < 8 || offset + size > end)
      throw new UnreadableBinary(`${what} claims ${size} bytes, which does not fit the load command table`);
    if (command === LC_SEGMENT || command === LC_SEGMENT_64)
      segments.push(readSegment(view, offset, size, command === LC_SEGMENT_64, what));
    if (LIBRARY_COMMANDS.has(command))
      libraries.push(view.cString(offset + view.u32(offset + 8, what), offset + size, `${what} library name`));
    offset += size;
  }
  return { segments, libraries };
}

function readSegment(view: ByteView, base: number, commandSize: number, wide: boolean, what: string): Segment {
  const headerSize = wide ? 72 : 56;
  const sectionSize = wide ? 80 : 68;
  if (commandSize < headerSize) throw new UnreadableBinary(`${what} is too small for a segment`);
  const segment: Segment = wide
    ? {
        name: view.paddedString(base + 8, 16, what),
        address: view.u64(base + 24, what),
        fileOffset: view.u64(base + 40, what),
        fileSize: view.u64(base + 48, what),
        sections: [],
      }
    : {
        name: view.paddedString(base + 8, 16, what),
        address: view.u32(base + 24),
        fileOffset: view.u32(base + 32),
        fileSize: view.u32(base + 36),
        sections: [],
      };
  // Segment bytes missing from the file mean it was cut short.
  view.need(segment.fileOffset, segment.fileSize, `Mach-O segment ${segment.name}`);

  const sectionCount = view.u32(base + (wide ? 64 : 48));
  if (headerSize + sectionCount * sectionSize > commandSize)
    throw new UnreadableBinary(`${what} lists more sections than it holds`);
  for (let index = 0; index < sectionCount; index++) {
    const at = base + headerSize + index * sectionSize;
    segment.sections.push({
      name: view.paddedString(at, 16, what),
      segmentName: view.paddedString(at + 16, 16, what),
      address: wide ? view.u64(at + 32, what) : view.u32(at + 32),
    });
  }
  return segment;
}

/** Go ≥ 1.18 gives build info its own section; before that it sat at the start of __DATA,__data. */
function findBuildInfoAddress(segments: readonly Segment[]): number | undefined {
  const sections = segments.flatMap((segment) => segment.sections);
  const own = sections.find((section) => section.name === '__go_buildinfo');
  if (own !== undefined) return own.address;
  return sections.find((section) => section.segmentName === '__DATA' && section.name === '__data')?.address;
}

function goArch(cpuType: number): string {
  switch (cpuType) {
    case 0x01000007:
      return 'amd64';
    case 0x0100000c:
      return 'arm64';
    case 0x7:
      return '386';
    case 0xc:
      return 'arm';
    default:
      throw new UnreadableBinary(`Mach-O CPU type 0x${cpuType.toString(16)} is not an architecture Go builds for`);
  }
}
