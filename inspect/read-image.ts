import { stat } from 'node:fs/promises';
import { posix } from 'node:path';
import { GociError } from '../common/errors.js';
import { inspectBuffer } from '../compiler/binary/inspect.js';
import type { BinaryReport } from '../compiler/binary/types.js';
import { formatPlatform, hostLinuxPlatform, parsePlatform } from '../compiler/platform.js';
import { formatReference, parseReference } from '../registry/reference.js';
import { findFile } from './find-file.js';
import type { ImageFiles } from './image-files.js';
import { archiveFiles, readDockerArchive } from './read-archive.js';
import { layoutFiles, platformName, readLayout, type StoredImage, type StoredImageSet } from './read-layout.js';
import { openRegistryImage, registryImageRef, type RegistryAccess } from './read-registry.js';
import {
  layoutReferrers,
  listReferrers,
  NO_REFERRERS,
  readSbom,
  type ReferrerReport,
  type ReferrerSource,
  type SbomReport,
} from './referrers.js';

/**
 * Where an image is, as skopeo spells it: `oci:DIR[:TAG]`, `oci-archive:FILE[:TAG]`,
 * `docker-archive:FILE[:NAME]`, `docker://REGISTRY/REPO[:TAG|@DIGEST]`.
 */
export interface ImageLocation {
  transport: ImageTransport;
  /** The directory or file as given (relative to the working directory); for docker, `registry/repository` (`docker.io/library/alpine`). */
  path: string;
  /** The tag (oci, oci-archive, docker) or the RepoTag / `@N` (docker-archive); absent: the only image (`latest` for docker). */
  tag?: string;
  /** docker only: the manifest digest, which wins over the tag. */
  digest?: string;
}

export type ImageTransport = 'oci' | 'oci-archive' | 'docker-archive' | 'docker';

/** How a registry is reached: see RegistryAccess. Local sources ignore it. */
export type ReadOptions = RegistryAccess;

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
  /** The default arguments (Cmd). */
  cmd: string[];
  env: string[];
  user: string;
  workingDir: string;
  /** ExposedPorts and Volumes, sorted. */
  exposedPorts: string[];
  volumes: string[];
  stopSignal: string;
  /** The entrypoint program, read from the layers. */
  binary: BinaryReport;
  /** The artifacts (SBOMs, signatures) whose subject is this platform's manifest, as the source lists them. */
  referrers: ReferrerReport[];
}

/** What `goci inspect --sbom` read: the platform image it chose and its SBOM. */
export interface ImageSbom {
  reference: string;
  platform: string;
  manifest: string;
  sbom: SbomReport;
}

const TRANSPORTS: Record<ImageTransport, string> = {
  oci: 'oci:DIR[:TAG]',
  'oci-archive': 'oci-archive:FILE[:TAG]',
  'docker-archive': 'docker-archive:FILE[:NAME]',
  docker: 'docker://REGISTRY/REPO[:TAG|@DIGEST]',
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
export async function imageLocationOf(text: string): Promise<ImageLocation | undefined> {
  const prefix = TRANSPORT_PREFIX.exec(text)?.[1];
  if (prefix === undefined) return undefined;
  if (!isTransport(prefix)) {
    if (
      await stat(text).then(
        () => true,
        () => false,
      )
    )
      return undefined;
    throw new GociError('BAD_ARGUMENT', `unknown image transport "${prefix}" in ${text}`, {
      hint: `goci inspect reads ${SYNTAX}, or a binary's path; copy other images into one first, such as skopeo copy docker-daemon:IMAGE oci:DIR:TAG`,
    });
  }
  return parseImageReference(text);
}

/** Parses `transport:path[:tag]`; the path ends at the first `:` after the transport, as in skopeo. */
export function parseImageReference(text: string): ImageLocation {
  const colon = text.indexOf(':');
  const transport = text.slice(0, colon);
  if (!isTransport(transport)) {
    throw new GociError('BAD_ARGUMENT', `unknown image transport "${transport}" in ${text}`, {
      hint: `goci inspect reads ${SYNTAX}`,
    });
  }
  const rest = text.slice(colon + 1);
  if (transport === 'docker') return parseRegistryReference(text, rest);
  const split = rest.indexOf(':');
  const path = split === -1 ? rest : rest.slice(0, split);
  const tag = split === -1 ? undefined : rest.slice(split + 1);
  if (path === '')
    throw new GociError('BAD_ARGUMENT', `${text} names no ${transport === 'oci' ? 'directory' : 'file'}`, {
      hint: `write ${TRANSPORTS[transport]}`,
    });
  if (tag === '')
    throw new GociError('BAD_ARGUMENT', `${text} ends in an empty ${transport === 'docker-archive' ? 'name' : 'tag'}`, {
      hint: `leave out the ':' or write ${TRANSPORTS[transport]}`,
    });
  return { transport, path, ...(tag === undefined ? {} : { tag }) };
}

/** `docker://REGISTRY/REPO[:TAG][@DIGEST]`: the part after `docker:` is a Docker image reference behind `//`. */
function parseRegistryReference(text: string, rest: string): ImageLocation {
  if (!rest.startsWith('//') || rest.length === 2) {
    throw new GociError('BAD_ARGUMENT', `${text} names no registry image`, {
      hint: `write ${TRANSPORTS.docker}, such as docker://ghcr.io/acme/api:1.2.3`,
    });
  }
  const ref = parseReference(rest.slice(2));
  return {
    transport: 'docker',
    path: formatReference({ ...ref, tag: undefined, digest: undefined }),
    ...(ref.tag === undefined ? {} : { tag: ref.tag }),
    ...(ref.digest === undefined ? {} : { digest: ref.digest }),
  };
}

export function formatImageReference(reference: ImageLocation): string {
  if (reference.transport === 'docker') {
    return `docker://${reference.path}${reference.tag === undefined ? '' : `:${reference.tag}`}${reference.digest === undefined ? '' : `@${reference.digest}`}`;
  }
  return `${reference.transport}:${reference.path}${reference.tag === undefined ? '' : `:${reference.tag}`}`;
}

/** An image source, open: its files, the images the reference names, where their referrers are listed. */
export interface OpenedImage {
  files: ImageFiles;
  found: StoredImageSet;
  referrers: ReferrerSource;
  /** Releases what reading needed (a registry's downloaded layers). */
  close(): Promise<void>;
}

/** The images a reference names, and the files to read their layers from. Call close() when done. */
export async function openImage(reference: ImageLocation, options: ReadOptions = {}): Promise<OpenedImage> {
  const withTag = (tag: string): string => formatImageReference({ ...reference, tag });
  const local = (files: ImageFiles, found: StoredImageSet, referrers: ReferrerSource): OpenedImage => ({
    files,
    found,
    referrers,
    close: async () => {},
  });
  switch (reference.transport) {
    case 'oci': {
      const files = await layoutFiles(reference.path);
      return local(files, await readLayout(files, reference.tag, withTag), layoutReferrers(files));
    }
    case 'oci-archive': {
      const files = await archiveFiles(reference.path, reference.transport);
      return local(files, await readLayout(files, reference.tag, withTag), layoutReferrers(files));
    }
    case 'docker-archive': {
      const files = await archiveFiles(reference.path, reference.transport);
      const found = await readDockerArchive(files, reference.tag, withTag);
      // goci's tarball (and docker save's since Docker 25) is an OCI layout as well.
      return local(
        files,
        found,
        (await files.size('index.json')) === undefined ? NO_REFERRERS : layoutReferrers(files),
      );
    }
    case 'docker':
      return openRegistryImage(registryImageRef(reference.path, reference.tag, reference.digest), options);
  }
}

/** The reference as reports show it: with the tag that was chosen. */
function shownReference(reference: ImageLocation, found: StoredImageSet): string {
  return formatImageReference({ ...reference, ...(found.tag === undefined ? {} : { tag: found.tag }) });
}

/**
 * Reads an image: for each platform its digests, size, labels and runtime settings, the Go
 * build info of the entrypoint program as found in its layers, and its referrers. Every blob
 * is checked against its digest before it is used; platforms are read one after the other, so
 * at most one program's bytes are in memory (and, from a registry, only the layers needed to
 * find it are downloaded).
 */
export async function readImage(reference: ImageLocation, options: ReadOptions = {}): Promise<ImageReport> {
  const opened = await openImage(reference, options);
  try {
    const { files, found } = opened;
    const shown = shownReference(reference, found);
    const platforms: PlatformReport[] = [];
    for (const image of found.images) {
      const report = await platformReport(files, image, shown);
      platforms.push({
        ...report,
        referrers: image.manifest ? await listReferrers(files, opened.referrers, image.manifest.digest) : [],
      });
    }
    return { reference: shown, ...(found.index ? { index: { digest: found.index.digest } } : {}), platforms };
  } finally {
    await opened.close();
  }
}

/**
 * The SBOM of one platform image: `platform` (os/arch[/variant]), else the only platform, else
 * this machine's Linux platform; an image with several and none of them this machine's fails
 * with the list. No layer is read: the SBOM is found through the manifest's referrers.
 */
export async function readImageSbom(
  reference: ImageLocation,
  platform: string | undefined,
  options: ReadOptions = {},
): Promise<ImageSbom> {
  const wanted = platform === undefined ? undefined : formatPlatform(parsePlatform(platform, '--platform'));
  const opened = await openImage(reference, options);
  try {
    const { files, found } = opened;
    const shown = shownReference(reference, found);
    const image = choosePlatform(found.images, wanted, shown);
    const where = `the ${image.name} image of ${shown}`;
    if (!image.manifest) {
      throw new GociError('NOT_FOUND', `${where} has no manifest, so no referrers and no SBOM to find`, {
        hint: 'SBOMs are found by the manifest they refer to; read the OCI layout or registry the image came from',
      });
    }
    const sbom = await readSbom(files, opened.referrers, image.manifest.digest, where);
    return { reference: shown, platform: image.name, manifest: image.manifest.digest, sbom };
  } finally {
    await opened.close();
  }
}

function normalName(name: string): string {
  try {
    return formatPlatform(parsePlatform(name));
  } catch {
    return name;
  }
}

function choosePlatform(images: StoredImage[], wanted: string | undefined, reference: string): StoredImage {
  const names = images.map((image) => image.name);
  if (wanted !== undefined) {
    const match = images.find((image) => normalName(image.name) === wanted);
    if (match) return match;
    throw new GociError(
      'BAD_PLATFORM',
      `--platform ${wanted}: ${reference} has no such platform (it has ${names.join(', ')})`,
    );
  }
  if (images.length === 1) return images[0]!;
  const host = formatPlatform(hostLinuxPlatform());
  const match = images.find((image) => normalName(image.name) === host);
  if (match) return match;
  throw new GociError(
    'BAD_ARGUMENT',
    `${reference} has ${images.length} platforms (${names.join(', ')}), none of them this machine's (${host}); name one`,
    {
      hint: `add --platform, such as --platform ${names[0]}`,
    },
  );
}

interface RuntimeSettings {
  Entrypoint?: unknown;
  Cmd?: unknown;
  Env?: unknown;
  User?: unknown;
  WorkingDir?: unknown;
  Labels?: unknown;
  ExposedPorts?: unknown;
  Volumes?: unknown;
  StopSignal?: unknown;
}

/** The keys of a config's set-like object (ExposedPorts, Volumes: `{"8080/tcp": {}}`), sorted. */
function keysOf(value: unknown): string[] {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? Object.keys(value).sort() : [];
}

async function platformReport(
  files: ImageFiles,
  image: StoredImage,
  reference: string,
): Promise<Omit<PlatformReport, 'referrers'>> {
  const settings = (image.config.document.config ?? {}) as RuntimeSettings;
  const entrypoint = strings(settings.Entrypoint);
  const workingDir = typeof settings.WorkingDir === 'string' ? settings.WorkingDir : '';
  const where = `the ${image.name} image of ${reference}`;
  return {
    platform:
      platformName(image.config.document as { os?: string; architecture?: string; variant?: string }) ?? 'unknown',
    manifest: image.manifest?.digest ?? null,
    config: image.config.digest,
    size: (image.manifest?.size ?? 0) + image.config.size + image.layers.reduce((sum, layer) => sum + layer.size, 0),
    labels: labelsOf(settings.Labels),
    entrypoint,
    cmd: strings(settings.Cmd),
    env: strings(settings.Env),
    user: typeof settings.User === 'string' ? settings.User : '',
    workingDir,
    exposedPorts: keysOf(settings.ExposedPorts),
    volumes: keysOf(settings.Volumes),
    stopSignal: typeof settings.StopSignal === 'string' ? settings.StopSignal : '',
    binary: await entrypointBinary(
      files,
      image,
      entrypoint[0] ?? strings(settings.Cmd)[0],
      settings,
      workingDir,
      where,
    ),
  };
}

/** The program the container starts, as the runtime finds it: absolute, relative to the working directory, or on PATH. */
async function entrypointBinary(
  files: ImageFiles,
  image: StoredImage,
  program: string | undefined,
  settings: RuntimeSettings,
  workingDir: string,
  where: string,
): Promise<BinaryReport> {
  if (program === undefined || program === '') {
    throw new GociError('NOT_FOUND', `${where} has no entrypoint or command, so no program to inspect`);
  }
  const searchPath =
    strings(settings.Env)
      .find((entry) => entry.startsWith('PATH='))
      ?.slice('PATH='.length) ?? DEFAULT_PATH;
  const candidates = program.startsWith('/')
    ? [program]
    : program.includes('/')
      ? [posix.join('/', workingDir, program)]
      : searchPath
          .split(':')
          .filter((dir) => dir !== '')
          .map((dir) => posix.join('/', dir, program));
  for (const candidate of candidates) {
    const found = await findFile(files, image.layers, candidate, where);
    if (found !== undefined) return inspectBuffer(found.bytes, `${found.path} in ${where}`);
  }
  throw new GociError(
    'NOT_FOUND',
    `the entrypoint ${program} is not in ${where}${candidates.length > 1 ? ` (looked in ${candidates.map(posix.dirname).join(':')})` : ''}`,
    {
      hint: 'the image config names a program its layers do not hold',
    },
  );
}

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [];
}

function labelsOf(value: unknown): Record<string, string> {
  if (value === null || typeof value !== 'object') return {};
  return Object.fromEntries(
    Object.entries(value as Record<string, unknown>).filter(
      (entry): entry is [string, string] => typeof entry[1] === 'string',
    ),
  );
}
