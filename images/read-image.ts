import { stat } from 'node:fs/promises';
import { posix } from 'node:path';
import { GociError } from '../common/errors.js';
import { inspectBuffer } from '../compiler/binary/inspect.js';
import type { BinaryReport } from '../compiler/binary/types.js';
import { findFile } from './find-file.js';
import type { ImageFiles } from './image-files.js';
import { archiveFiles, readDockerArchive } from './read-archive.js';
import { layoutFiles, platformName, readLayout, type StoredImage, type StoredImageSet } from './read-layout.js';

/** Where an image is, as skopeo spells it: `oci:DIR[:TAG]`, `oci-archive:FILE[:TAG]`, `docker-archive:FILE[:NAME]`. */
export interface ImageReference {
  transport: ImageTransport;
  /** The directory or file as given (relative to the working directory). */
  path: string;
  /** The tag (oci, oci-archive) or the RepoTag / `@N` (docker-archive); absent: the only image. */
  tag?: string;
}

export type ImageTransport = 'oci' | 'oci-archive' | 'docker-archive';

/** What `goci inspect` reports for an image, as --json prints it. */
export interface ImageReport {
  /** The reference read, with the tag that was chosen: `oci:dist/oci:1.2.3`. */
  reference: string;
  /** The image index the reference names, when it names one. */
  index?: { digest: string };
  platforms: PlatformReport[];
}

export interface PlatformReport {
  /** os/arch[/variant], from the image config. */
  platform: string;
  /** The manifest digest; null when the source has no manifest (a docker archive that is not also an OCI layout). */
  manifest: string | null;
  config: string;
  /** Bytes of the manifest, config and (compressed) layers: what a registry stores, as goci build reports it. */
  size: number;
  labels: Record<string, string>;
  entrypoint: string[];
  user: string;
  workingDir: string;
  /** The entrypoint program, read from the layers. */
  binary: BinaryReport;
}

const TRANSPORTS: Record<ImageTransport, string> = {
  oci: 'oci:DIR[:TAG]',
  'oci-archive': 'oci-archive:FILE[:TAG]',
  'docker-archive': 'docker-archive:FILE[:NAME]',
};
const TRANSPORT_PREFIX = /^([a-z][a-z0-9+.-]*):/;
const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const SYNTAX = Object.values(TRANSPORTS).join(', ');

function isTransport(name: string): name is ImageTransport {
  return Object.hasOwn(TRANSPORTS, name);
}

/**
 * The image `text` names, or undefined when it is a file path (a binary). A known transport
 * prefix always means an image; an unknown one (`docker://…`) is an error unless a file of
 * that name exists.
 */
export async function imageReferenceOf(text: string): Promise<ImageReference | undefined> {
  const prefix = TRANSPORT_PREFIX.exec(text)?.[1];
  if (prefix === undefined) return undefined;
  if (!isTransport(prefix)) {
    if (await stat(text).then(() => true, () => false)) return undefined;
    throw new GociError('BAD_ARGUMENT', `unknown image transport "${prefix}" in ${text}`, {
      hint: `goci inspect reads ${SYNTAX}, or a binary's path; copy other images into one first, such as skopeo copy docker://IMAGE oci:DIR:TAG`,
    });
  }
  return parseImageReference(text);
}

/** Parses `transport:path[:tag]`; the path ends at the first `:` after the transport, as in skopeo. */
export function parseImageReference(text: string): ImageReference {
  const colon = text.indexOf(':');
  const transport = text.slice(0, colon);
  if (!isTransport(transport)) {
    throw new GociError('BAD_ARGUMENT', `unknown image transport "${transport}" in ${text}`, { hint: `goci inspect reads ${SYNTAX}` });
  }
  const rest = text.slice(colon + 1);
  const split = rest.indexOf(':');
  const path = split === -1 ? rest : rest.slice(0, split);
  const tag = split === -1 ? undefined : rest.slice(split + 1);
  if (path === '') throw new GociError('BAD_ARGUMENT', `${text} names no ${transport === 'oci' ? 'directory' : 'file'}`, { hint: `write ${TRANSPORTS[transport]}` });
  if (tag === '') throw new GociError('BAD_ARGUMENT', `${text} ends in an empty ${transport === 'docker-archive' ? 'name' : 'tag'}`, { hint: `leave out the ':' or write ${TRANSPORTS[transport]}` });
  return { transport, path, ...(tag === undefined ? {} : { tag }) };
}

export function formatImageReference(reference: ImageReference): string {
  return `${reference.transport}:${reference.path}${reference.tag === undefined ? '' : `:${reference.tag}`}`;
}

/** The images a reference names, and the files to read their layers from. */
export async function openImage(reference: ImageReference): Promise<{ files: ImageFiles; found: StoredImageSet }> {
  const withTag = (tag: string): string => formatImageReference({ ...reference, tag });
  switch (reference.transport) {
    case 'oci': {
      const files = await layoutFiles(reference.path);
      return { files, found: await readLayout(files, reference.tag, withTag) };
    }
    case 'oci-archive': {
      const files = await archiveFiles(reference.path, reference.transport);
      return { files, found: await readLayout(files, reference.tag, withTag) };
    }
    case 'docker-archive': {
      const files = await archiveFiles(reference.path, reference.transport);
      return { files, found: await readDockerArchive(files, reference.tag, withTag) };
    }
  }
}

/**
 * Reads an image: for each platform its digests, size, labels and runtime settings, and the
 * Go build info of the entrypoint program as found in its layers. Every blob is checked
 * against its digest before it is used; platforms are read one after the other, so at most
 * one program's bytes are in memory.
 */
export async function readImage(reference: ImageReference): Promise<ImageReport> {
  const { files, found } = await openImage(reference);
  const shown = formatImageReference({ ...reference, ...(found.tag === undefined ? {} : { tag: found.tag }) });
  const platforms: PlatformReport[] = [];
  for (const image of found.images) platforms.push(await platformReport(files, image, shown));
  return { reference: shown, ...(found.index ? { index: { digest: found.index.digest } } : {}), platforms };
}

interface RuntimeSettings {
  Entrypoint?: unknown;
  Cmd?: unknown;
  Env?: unknown;
  User?: unknown;
  WorkingDir?: unknown;
  Labels?: unknown;
}

async function platformReport(files: ImageFiles, image: StoredImage, reference: string): Promise<PlatformReport> {
  const settings = (image.config.document.config ?? {}) as RuntimeSettings;
  const entrypoint = strings(settings.Entrypoint);
  const workingDir = typeof settings.WorkingDir === 'string' ? settings.WorkingDir : '';
  const where = `the ${image.name} image of ${reference}`;
  return {
    platform: platformName(image.config.document as { os?: string; architecture?: string; variant?: string }) ?? 'unknown',
    manifest: image.manifest?.digest ?? null,
    config: image.config.digest,
    size: (image.manifest?.size ?? 0) + image.config.size + image.layers.reduce((sum, layer) => sum + layer.size, 0),
    labels: labelsOf(settings.Labels),
    entrypoint,
    user: typeof settings.User === 'string' ? settings.User : '',
    workingDir,
    binary: await entrypointBinary(files, image, entrypoint[0] ?? strings(settings.Cmd)[0], settings, workingDir, where),
  };
}

/** The program the container starts, as the runtime finds it: absolute, relative to the working directory, or on PATH. */
async function entrypointBinary(files: ImageFiles, image: StoredImage, program: string | undefined, settings: RuntimeSettings, workingDir: string, where: string): Promise<BinaryReport> {
  if (program === undefined || program === '') {
    throw new GociError('NOT_FOUND', `${where} has no entrypoint or command, so no program to inspect`);
  }
  const searchPath = strings(settings.Env).find((entry) => entry.startsWith('PATH='))?.slice('PATH='.length) ?? DEFAULT_PATH;
  const candidates = program.startsWith('/')
    ? [program]
    : program.includes('/')
      ? [posix.join('/', workingDir, program)]
      : searchPath.split(':').filter((dir) => dir !== '').map((dir) => posix.join('/', dir, program));
  for (const candidate of candidates) {
    const found = await findFile(files, image.layers, candidate, where);
    if (found !== undefined) return inspectBuffer(found.bytes, `${found.path} in ${where}`);
  }
  throw new GociError('NOT_FOUND', `the entrypoint ${program} is not in ${where}${candidates.length > 1 ? ` (looked in ${candidates.map(posix.dirname).join(':')})` : ''}`, {
    hint: 'the image config names a program its layers do not hold',
  });
}

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [];
}

function labelsOf(value: unknown): Record<string, string> {
  if (value === null || typeof value !== 'object') return {};
  return Object.fromEntries(Object.entries(value as Record<string, unknown>).filter((entry): entry is [string, string] => typeof entry[1] === 'string'));
}
