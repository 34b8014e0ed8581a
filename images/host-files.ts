import { lstat, readdir, readlink, realpath, stat } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { GociError, isGociError } from '../common/errors.js';
import { found } from '../common/found.js';
import { inspectBinary } from '../compiler/binary/inspect.js';
import { hostLinuxPlatform } from '../compiler/platform.js';
import type { Platform } from '../oci/platform.js';
import type { RemoteBaseLayers } from './assemble.js';
import { appendLayers, writeIndex } from './append-layers.js';
import type { Descriptor, JsonBlob, OciPlatform } from '../oci/descriptor.js';
import { EMPTY_RUNTIME, type RuntimeConfig } from '../oci/image-config.js';
import { normaliseLayerPath, writeLayer, type Layer, type LayerEntry } from './layer.js';
import type { ImageManifest } from '../oci/manifest.js';
import { MEDIA_TYPES, type ImageFormat } from '../oci/media-types.js';
import { layoutBlobDir, prepareLayout } from '../oci/layout.js';
import { ociPlatform } from '../oci/platform.js';

/**
 * Layer entries for files taken from THIS machine (a toolchain, a runtime and the libraries it
 * links), and a small assembler for images made of such layers. Everything is owned by 0:0 and
 * gets the layer's fixed mtime, so the same machine gives the same bytes.
 */

/** A host path and where it goes in the image. A plain string goes to the same path. */
export interface HostPath {
  source: string;
  at: string;
}

export type HostEntryKind = 'file' | 'directory' | 'symlink';

export interface HostFileOptions {
  /**
   * Leaves something out: called with the host path of every file, directory and symlink
   * found inside a copied directory (never with the given paths themselves); true skips it,
   * and for a directory everything below it.
   */
  exclude?: (hostPath: string, kind: HostEntryKind) => boolean;
}

function hostPathOf(item: string | HostPath): HostPath {
  return typeof item === 'string' ? { source: item, at: item } : item;
}

/** Image paths as writeLayer keys them (`usr/lib/x`), with the leading '/' put back for display. */
function imagePath(path: string): string {
  return `/${normaliseLayerPath(path)}`;
}

/**
 * Entries for host paths:
 * - a given path is followed if it is a symlink (`/bin/sh` becomes a regular file holding
 *   dash), so the image gets the real thing at the path asked for;
 * - a directory is copied with everything below it: regular files with their permission bits,
 *   directories with theirs, and symlinks kept as symlinks with their target verbatim (Debian's
 *   /usr/lib/go-1.19/src → ../../share/go-1.19/src stays a relative link);
 * - owners are always 0:0; sockets, fifos and devices are refused.
 * Entries for the same image path from two inputs must agree (see mergeEntries).
 */
export async function hostFileEntries(
  paths: readonly (string | HostPath)[],
  options: HostFileOptions = {},
): Promise<LayerEntry[]> {
  const lists: LayerEntry[][] = [];
  for (const item of paths) {
    const { source, at } = hostPathOf(item);
    const stats = await stat(source).catch((error: NodeJS.ErrnoException) => {
      throw new GociError(
        error.code === 'ENOENT' ? 'NOT_FOUND' : 'IO_FAILED',
        `host path ${source} cannot be read: ${error.code ?? error.message}`,
        { cause: error },
      );
    });
    const entries: LayerEntry[] = [];
    if (stats.isDirectory()) {
      entries.push(directoryEntry(at, stats.mode));
      await walk(source, at, entries, options);
    } else if (stats.isFile()) {
      entries.push(fileEntry(at, await realpath(source), stats.mode));
    } else {
      throw notCopyable(source);
    }
    lists.push(entries);
  }
  return mergeEntries(...lists);
}

function fileEntry(at: string, source: string, mode: number): LayerEntry {
  return { type: 'file', path: imagePath(at), mode: mode & 0o7777, uid: 0, gid: 0, source };
}

function directoryEntry(at: string, mode: number): LayerEntry {
  return { type: 'directory', path: imagePath(at), mode: mode & 0o7777, uid: 0, gid: 0 };
}

function notCopyable(source: string): GociError {
  return new GociError('BAD_ARGUMENT', `host path ${source} is not a regular file, directory or symlink`, {
    hint: 'leave sockets, fifos and devices out of image files',
  });
}

async function walk(dir: string, at: string, into: LayerEntry[], options: HostFileOptions): Promise<void> {
  const names = (await readdir(dir)).sort();
  for (const name of names) {
    const source = join(dir, name);
    const target = posix.join(at, name);
    const stats = await lstat(source);
    const kind: HostEntryKind | undefined = stats.isSymbolicLink()
      ? 'symlink'
      : stats.isDirectory()
        ? 'directory'
        : stats.isFile()
          ? 'file'
          : undefined;
    if (kind === undefined) throw notCopyable(source);
    if (options.exclude?.(source, kind)) continue;
    if (kind === 'symlink') {
      into.push({ type: 'symlink', path: imagePath(target), target: await readlink(source), uid: 0, gid: 0 });
    } else if (kind === 'directory') {
      into.push(directoryEntry(target, stats.mode));
      await walk(source, target, into, options);
    } else {
      into.push(fileEntry(target, source, stats.mode));
    }
  }
}

/** What must be equal for two entries of one image path to be the same entry. */
function identity(entry: LayerEntry): string {
  const common = [entry.type, entry.uid, entry.gid];
  switch (entry.type) {
    case 'directory':
      return JSON.stringify([...common, entry.mode]);
    case 'symlink':
      return JSON.stringify([...common, entry.target]);
    case 'file':
      return 'source' in entry && entry.source !== undefined
        ? JSON.stringify([...common, entry.mode, 'source', entry.source])
        : JSON.stringify([
            ...common,
            entry.mode,
            'content',
            Buffer.from((entry as { content: Uint8Array }).content).toString('base64'),
          ]);
  }
}

/**
 * Joins entry lists (the closures of `go` and `sh` both hold libc): an image path listed twice
 * is kept once when both entries are the same (type, mode, owner and source, content or
 * target) and is an error when they differ. The first one's order is kept.
 */
export function mergeEntries(...lists: readonly LayerEntry[][]): LayerEntry[] {
  const byPath = new Map<string, LayerEntry>();
  for (const entry of lists.flat()) {
    const key = normaliseLayerPath(entry.path);
    const previous = byPath.get(key);
    if (previous === undefined) {
      byPath.set(key, entry);
    } else if (identity(previous) !== identity(entry)) {
      throw new GociError(
        'BAD_ARGUMENT',
        `image path /${key} is given twice with different content (${identity(previous)} and ${identity(entry)})`,
      );
    }
  }
  return [...byPath.values()];
}

// ---------------------------------------------------------------------------------------------
// Executables and the libraries they load

export interface ExecutableClosure {
  /** The binary, its ELF interpreter and every shared library it needs, as layer entries. */
  entries: LayerEntry[];
  /** The binary's real path on this machine (symlinks resolved). */
  source: string;
  /** False when the binary needs nothing but itself. */
  dynamic: boolean;
  /** PT_INTERP of the binary, when it has one. */
  interpreter: string | undefined;
  /** Image paths of the libraries, in the order the loader reported them (the interpreter excluded). */
  libraries: string[];
}

export interface ClosureOptions {
  /** Where the binary goes in the image; default: the path it was given as. */
  at?: string;
}

/** One resolved line of ldd's output: a library's soname (or the loader's path) and where it was found. */
export interface LddLine {
  name: string;
  path: string;
}

/**
 * Parses `ldd` output (glibc's: the loader run with LD_TRACE_LOADED_OBJECTS). The vDSO has no
 * file and is skipped; a library the loader cannot find is an error naming it.
 */
export function parseLdd(output: string, binary: string): LddLine[] {
  const lines: LddLine[] = [];
  const missing: string[] = [];
  for (const raw of output.split('\n')) {
    const line = raw.trim();
    if (line === '') continue;
    const notFound = /^(\S+) => not found$/.exec(line);
    if (notFound) {
      missing.push(notFound[1]!);
      continue;
    }
    const resolved = /^(\S+) => (\/\S*) \(0x[0-9a-f]+\)$/.exec(line);
    if (resolved) {
      lines.push({ name: resolved[1]!, path: resolved[2]! });
      continue;
    }
    const loader = /^(\/\S*) \(0x[0-9a-f]+\)$/.exec(line);
    if (loader) lines.push({ name: loader[1]!, path: loader[1]! });
    // Anything else (`linux-vdso.so.1 (0x...)`, `statically linked`) names no file.
  }
  if (missing.length > 0) {
    throw new GociError('NOT_FOUND', `${binary} needs ${missing.join(', ')}, which this machine's loader cannot find`, {
      hint: 'install the missing libraries, or copy a static binary instead',
    });
  }
  return lines;
}

async function hostFile(path: string, at: string): Promise<LayerEntry & { type: 'file'; source: string }> {
  const real = await realpath(path).catch((error: NodeJS.ErrnoException) => {
    throw new GociError('NOT_FOUND', `${path} cannot be resolved on this machine: ${error.code ?? error.message}`, {
      cause: error,
    });
  });
  const stats = await stat(real);
  if (!stats.isFile()) throw new GociError('BAD_ARGUMENT', `${path} is not a regular file`);
  return { type: 'file', path: imagePath(at), mode: stats.mode & 0o7777, uid: 0, gid: 0, source: real };
}

/**
 * The binary plus what the kernel and its ELF loader need to start it on this machine: the
 * interpreter at the path PT_INTERP names, and each shared library (transitively, as `ldd`
 * resolves them through ld.so.cache) at the path ldd reports. Every one is a regular file
 * holding the dereferenced host file: on a merged-/usr system `/lib64/ld-linux-x86-64.so.2`
 * is reached through two symlinks (/lib64 → usr/lib64, then → /lib/x86_64-linux-gnu/...), and
 * the image gets a real /lib64 directory with the real loader in it, so nothing depends on the
 * host's symlink layout. A static binary comes alone.
 *
 * Only for binaries of this machine's architecture (ldd runs the host loader). Files that are
 * loaded with dlopen (NSS modules, iconv, plugins) are not found this way.
 */
export async function executableClosure(binary: string, options: ClosureOptions = {}): Promise<ExecutableClosure> {
  const self = await hostFile(binary, options.at ?? binary);
  const report = await inspectBinary(self.source);
  if (report.format !== 'elf')
    throw new GociError(
      'BAD_BINARY',
      `${binary} is a ${report.format} binary; only Linux ELF programs can go into an image with their libraries`,
    );
  const host = hostLinuxPlatform();
  if (report.arch !== host.arch) {
    throw new GociError(
      'BAD_BINARY',
      `${binary} is a ${report.arch} program; its libraries can only be resolved for this machine's architecture (${host.arch})`,
    );
  }
  if (report.static)
    return { entries: [self], source: self.source, dynamic: false, interpreter: undefined, libraries: [] };

  let output: string;
  try {
    // Loaded here, when used: initialising execa's modules costs every other run 9 ms.
    const { execa } = await import('execa');
    const result = await execa('ldd', [self.source], { env: { LC_ALL: 'C' }, stdin: 'ignore' });
    output = result.stdout;
  } catch (error) {
    if (isGociError(error)) throw error;
    const failed = error as { code?: string; stderr?: string; shortMessage?: string };
    if (failed.code === 'ENOENT')
      throw new GociError(
        'NOT_FOUND',
        'ldd is not installed on this machine; it is needed to find the libraries of a dynamic binary',
        { cause: error },
      );
    throw new GociError(
      'IO_FAILED',
      `ldd ${binary} failed: ${(failed.stderr || failed.shortMessage || String(error)).trim()}`,
      { cause: error },
    );
  }
  const lines = parseLdd(output, binary);
  const entries: LayerEntry[] = [self];
  if (report.interpreter !== undefined) entries.push(await hostFile(report.interpreter, report.interpreter));
  const libraries: string[] = [];
  for (const line of lines) {
    entries.push(await hostFile(line.path, line.path));
    if (line.path !== report.interpreter) libraries.push(imagePath(line.path));
  }
  return {
    entries: mergeEntries(entries),
    source: self.source,
    dynamic: true,
    interpreter: report.interpreter,
    libraries,
  };
}

// ---------------------------------------------------------------------------------------------
// Assembling an image of host layers

export interface HostImageLayer {
  entries: LayerEntry[];
  /** The history line of the layer (`created_by`). */
  createdBy: string;
}

export interface HostImageRequest {
  layoutDir: string;
  /** Default: oci. */
  format?: ImageFormat;
  /** Default: this machine's linux platform (host files only run there). */
  platform?: Platform;
  /** A base image from a registry, resolved for `platform`: its layers and history come first. */
  base?: RemoteBaseLayers;
  layers: HostImageLayer[];
  runtime: Partial<RuntimeConfig>;
  /** Unix seconds of every timestamp (mtime of entries, `created`). Default 0. */
  epoch?: number;
  annotations?: Record<string, string>;
  /** zlib level of the layers (default 1, writeLayer's). */
  gzipLevel?: number;
}

export interface HostImage {
  layoutDir: string;
  platform: OciPlatform;
  image: ImageManifest;
  index: JsonBlob;
  /** How tarballs, pushes and the layout name the index. */
  indexDescriptor: Descriptor;
  /** The layers written here (a remote base's are not), in image order. */
  layers: Layer[];
}

/**
 * Writes a one-platform image into an OCI layout: each layer as writeLayer makes it (written
 * side by side), the config with one history line per layer, the manifest, and an index over
 * it, as `goci build` does for Go binaries. With a remote base, its layers, diff_ids and
 * history come first and the manifest and index carry `org.opencontainers.image.base.*`; the
 * base's blobs are NOT fetched here (images/base/download.ts does that when a sink needs them).
 * Nothing is tagged: call tagInLayout once every blob the index reaches is in the layout.
 */
export async function assembleHostImage(request: HostImageRequest): Promise<HostImage> {
  const format = request.format ?? 'oci';
  const epoch = request.epoch ?? 0;
  const target = request.platform ?? hostLinuxPlatform();
  const platform = ociPlatform(target);
  await prepareLayout(request.layoutDir);
  const blobDir = layoutBlobDir(request.layoutDir);
  const layers = await Promise.all(
    request.layers.map((layer) =>
      writeLayer(layer.entries, blobDir, {
        mtime: epoch,
        ...(request.gzipLevel === undefined ? {} : { gzipLevel: request.gzipLevel }),
      }),
    ),
  );
  const image = await appendLayers({
    layoutDir: request.layoutDir,
    format,
    platform: target,
    base: request.base,
    layers: layers.map((layer, position) => ({
      layer,
      createdBy: found(request.layers[position], 'the layer request').createdBy,
    })),
    runtime: { ...EMPTY_RUNTIME, ...request.runtime },
    epoch,
    annotations: { ...request.annotations },
  });
  const index = await writeIndex(request.layoutDir, format, [image], request.base, { ...request.annotations });
  const indexDescriptor: Descriptor = { mediaType: MEDIA_TYPES[format].index, digest: index.digest, size: index.size };
  return { layoutDir: request.layoutDir, platform, image, index, indexDescriptor, layers };
}
