import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../../common/atomic.js';
import { gociCacheDir } from '../../common/cache-dir.js';
import { GociError } from '../../common/errors.js';
import { found } from '../../common/found.js';
import { formatPlatform } from '../../compiler/platform.js';
import type { Platform } from '../../oci/platform.js';
import type { RegistryClient } from '../../registry/client.js';
import { formatReference, type ImageRef } from '../../registry/reference.js';
import { sha256Digest, type Descriptor } from '../../oci/descriptor.js';
import type { InheritedHistory } from '../../oci/image-config.js';
import type { BaseRuntime } from '../image-runtime.js';
import { MEDIA_TYPES } from '../../oci/media-types.js';
import { topManifest } from '../../registry/top-manifest.js';

/** What a base image's config contributes, for one platform: its history and runtime settings. */
export interface BaseImageConfig {
  diffIds: string[];
  history: InheritedHistory;
  env: string[];
  user: string;
  workingDir: string;
  entrypoint: string[] | undefined;
  cmd: string[] | undefined;
  exposedPorts: string[];
  labels: Record<string, string>;
}

/** What a platform image of a remote base contributes: its layers and its config's runtime settings. */
export interface RemoteBasePlatform extends Omit<BaseImageConfig, 'diffIds'> {
  platform: Platform;
  manifestDigest: string;
  layers: (Descriptor & { diffId: string })[];
}

export interface RemoteBase {
  ref: ImageRef;
  /** The digest the reference resolved to (an index or a single manifest): `base.digest`. */
  digest: string;
  platforms: RemoteBasePlatform[];
}

const MANIFEST_TYPES = [
  MEDIA_TYPES.oci.index,
  MEDIA_TYPES.docker.index,
  MEDIA_TYPES.oci.manifest,
  MEDIA_TYPES.docker.manifest,
];
const MAX_DOCUMENT = 4 * 1024 * 1024;

interface PlatformEntry {
  digest: string;
  mediaType: string;
  platform?: { os: string; architecture: string; variant?: string };
}

/** Content-addressed documents never change, so they are cached on disk by digest. */
async function cachedDocument(digest: string, fetch: () => Promise<Buffer>): Promise<Buffer> {
  const path = join(gociCacheDir(), 'documents', digest.replace(/^sha256:/, ''));
  const cached = await readFile(path).catch(() => undefined);
  if (cached && sha256Digest(cached) === digest) return cached;
  const bytes = await fetch();
  await mkdir(join(gociCacheDir(), 'documents'), { recursive: true })
    .then(() => writeFileAtomic(path, bytes))
    .catch(() => undefined);
  return bytes;
}

// biome-ignore lint/suspicious/noExplicitAny: registry manifests and configs are walked untyped here, their fields read with fallbacks below
function parseJson(bytes: Buffer, what: string): any {
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new GociError('IO_FAILED', `${what} is not JSON`);
  }
}

/** arm64/v8 and amd64/v1 carry no variant; arm without one means v7 (containerd's rules). */
function sameVariant(entry: PlatformEntry['platform'], platform: Platform): boolean {
  const normalise = (arch: string, variant: string | undefined): string | undefined =>
    (arch === 'arm64' && variant === 'v8') || (arch === 'amd64' && variant === 'v1')
      ? undefined
      : arch === 'arm' && !variant
        ? 'v7'
        : variant;
  return normalise(entry!.architecture, entry!.variant) === normalise(platform.arch, platform.variant);
}

/**
 * Resolves `ref` to its index (or single manifest), picks the manifest for each target platform
 * (variants matched as containerd does) and reads its config. A platform the base lacks is an
 * error that lists what the base offers.
 */
export async function resolveRemoteBase(
  client: RegistryClient,
  ref: ImageRef,
  platforms: Platform[],
  field?: string,
): Promise<RemoteBase> {
  const name = formatReference(ref);
  // A reference that names nothing is the user's to fix (exit 2); anything missing below it is the registry's.
  const where = formatReference({ ...ref, tag: undefined, digest: undefined });
  const source = { subject: `${field ? `${field} ` : 'base image '}${name}`, examplePrefix: '' };
  const tag = ref.digest === undefined ? (ref.tag ?? 'latest') : ref.tag;
  const top = await topManifest(client, ref, where, tag, MANIFEST_TYPES, source);
  const document = parseJson(top.bytes, `the manifest of ${name}`);
  const entries: PlatformEntry[] = Array.isArray(document.manifests)
    ? document.manifests
    : [{ digest: top.digest, mediaType: top.mediaType }];
  const resolved: RemoteBasePlatform[] = [];
  for (const platform of platforms) {
    const entry = Array.isArray(document.manifests)
      ? entries.find(
          (candidate) =>
            candidate.platform?.os === platform.os &&
            candidate.platform.architecture === platform.arch &&
            sameVariant(candidate.platform, platform),
        )
      : entries[0];
    if (!entry) {
      const offered = entries
        .filter((candidate) => candidate.platform)
        .map((candidate) =>
          formatPlatform({
            os: candidate.platform!.os,
            arch: candidate.platform!.architecture,
            ...(candidate.platform!.variant ? { variant: candidate.platform!.variant } : {}),
          }),
        );
      throw new GociError(
        'BAD_PLATFORM',
        `base image ${name} has no ${formatPlatform(platform)} image; it offers ${offered.join(', ') || 'no platform list'}`,
        {
          hint: 'choose a base that has every target platform, or drop that platform',
        },
      );
    }
    resolved.push(await platformOfBase(client, ref, entry, platform, name, top.bytes));
  }
  return { ref, digest: top.digest, platforms: resolved };
}

async function platformOfBase(
  client: RegistryClient,
  ref: ImageRef,
  entry: PlatformEntry,
  platform: Platform,
  name: string,
  topBytes: Buffer,
): Promise<RemoteBasePlatform> {
  const manifestBytes =
    entry.digest === sha256Digest(topBytes)
      ? topBytes
      : await cachedDocument(
          entry.digest,
          async () => (await client.getManifest(ref.repository, entry.digest, MANIFEST_TYPES)).bytes,
        );
  const manifest = parseJson(manifestBytes, `the ${formatPlatform(platform)} manifest of ${name}`);
  const configBytes = await cachedDocument(manifest.config.digest, () =>
    client.fetchBlobBytes(ref.repository, manifest.config.digest, MAX_DOCUMENT),
  );
  const { diffIds, ...config } = readBaseConfig(configBytes, platform, name);
  const layers = (manifest.layers as Descriptor[]).map((layer, index) => ({
    mediaType: layer.mediaType,
    digest: layer.digest,
    size: layer.size,
    diffId: diffIds[index]!,
  }));
  return { platform, manifestDigest: entry.digest, layers, ...config };
}

/**
 * A base image's config for `platform`, checked to be that platform's. The CLI reads it from the
 * registry, the BuildKit frontend from ResolveImageConfig: both keep the same fields.
 */
export function readBaseConfig(bytes: Uint8Array, platform: Platform, name: string): BaseImageConfig {
  const config = parseJson(Buffer.from(bytes), `the ${formatPlatform(platform)} config of ${name}`);
  if (config.os !== platform.os || config.architecture !== platform.arch) {
    throw new GociError(
      'BAD_PLATFORM',
      `base image ${name}: the manifest listed for ${formatPlatform(platform)} is ${config.os}/${config.architecture}`,
    );
  }
  const runtime = config.config ?? {};
  return {
    diffIds: config.rootfs?.diff_ids ?? [],
    history: config.history ?? [],
    env: runtime.Env ?? [],
    user: runtime.User ?? '',
    workingDir: runtime.WorkingDir ?? '',
    entrypoint: runtime.Entrypoint ?? undefined,
    cmd: runtime.Cmd ?? undefined,
    exposedPorts: Object.keys(runtime.ExposedPorts ?? {}),
    labels: runtime.Labels ?? {},
  };
}

/**
 * How a container on a remote base starts by default: its first target platform's env, user and
 * working directory (goci.yaml's image section then overrides them: imageRuntime).
 */
export function remoteBaseRuntime(platforms: Pick<BaseImageConfig, 'env' | 'user' | 'workingDir'>[]): BaseRuntime {
  const first = found(platforms[0], 'a platform of the remote base');
  return { env: first.env, user: first.user, workingDir: first.workingDir };
}

/** The annotation keys that say which image an image is built on. */
export const BASE_NAME_ANNOTATION = 'org.opencontainers.image.base.name';
export const BASE_DIGEST_ANNOTATION = 'org.opencontainers.image.base.digest';

/** `org.opencontainers.image.base.name` and `.base.digest`: which image this one is built on. */
export function baseAnnotations(name: string, digest: string): Record<string, string> {
  return { [BASE_NAME_ANNOTATION]: name, [BASE_DIGEST_ANNOTATION]: digest };
}
