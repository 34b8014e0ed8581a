import { GociError } from '../common/errors.js';
import { formatPlatform } from '../compiler/platform.js';
import type { Platform } from '../oci/platform.js';
import { BASE_NAME_ANNOTATION, baseAnnotations, readBaseConfig, remoteBaseRuntime } from '../images/base/remote.js';
import type { ImageConfigInput } from '../oci/image-config.js';
import type { BaseRuntime } from '../images/image-runtime.js';
import { formatReference, parseReference } from '../registry/reference.js';
import type { Gateway } from './gateway.js';
import { imageSource, pbPlatform } from './llb/sources.js';
import type { Output } from './llb/vertex.js';

/** One target platform of a registry base: the image as the filesystem goci's layers go on, and its config's history. */
export interface RemoteBasePlatformInBuildKit {
  rootfs: Output;
  inherited: NonNullable<ImageConfigInput['inherited']>;
}

/** A registry base as the frontend uses it: resolved by BuildKit, inherited as the CLI inherits it. */
export interface RemoteBaseInBuildKit {
  /** The reference as the CLI records it in `org.opencontainers.image.base.name`. */
  name: string;
  /** What the reference resolved to (an index or a single manifest), as ResolveImageConfig reports it. */
  digest: string;
  /** env, user and working directory the image starts from, by the CLI's rule (remoteBaseRuntime). */
  runtime: BaseRuntime;
  /** By platform (formatPlatform). */
  platforms: Map<string, RemoteBasePlatformInBuildKit>;
}

/**
 * Resolves a registry base through BuildKit (the frontend has no network of its own): each
 * target platform's config by ResolveImageConfig, read and checked by the CLI's code, and the
 * image itself as an LLB image source pinned to the digest the reference resolved to, so the
 * layers are those of the config read here even if the tag moves during the build.
 */
export async function resolveRemoteBaseInBuildKit(
  gateway: Gateway,
  reference: string,
  platforms: Platform[],
  where: string,
): Promise<RemoteBaseInBuildKit> {
  const ref = parseReference(reference);
  const name = formatReference(ref);
  const resolved = await Promise.all(
    platforms.map(async (platform) => {
      const answer = await gateway.resolveImageConfig(name, pbPlatform(platform)).catch((error: unknown) => {
        throw new GociError(
          'BAD_PLATFORM',
          `${where}: BuildKit could not resolve the base image ${name} for ${formatPlatform(platform)}: ${error instanceof Error ? error.message : String(error)}`,
          { hint: 'check the reference, that BuildKit can reach its registry, and that it has every target platform' },
        );
      });
      return { platform, digest: answer.digest, config: readBaseConfig(answer.bytes, platform, name) };
    }),
  );
  const digests = [...new Set(resolved.map((item) => item.digest))];
  if (digests.length !== 1)
    throw new GociError(
      'BAD_ARGUMENT',
      `${where}: the base image ${name} resolved to different digests (${digests.join(', ')}) during one build`,
      { hint: 'the tag moved while building: build again, or name the base by digest' },
    );
  const digest = digests[0] ?? '';
  const pinned = formatReference({ ...ref, digest });
  return {
    name,
    digest,
    runtime: remoteBaseRuntime(resolved.map((item) => item.config)),
    platforms: new Map(
      resolved.map(({ platform, config }) => [
        formatPlatform(platform),
        {
          rootfs: imageSource(pinned, platform),
          inherited: { diffIds: config.diffIds, history: config.history },
        },
      ]),
    ),
  };
}

const encoder = new TextEncoder();

/**
 * The CLI's `org.opencontainers.image.base.*` annotations as BuildKit (>= 0.11) takes them from a
 * frontend's result metadata: on the index, the name and the digest the reference resolved to,
 * as the CLI writes them; on each platform manifest the name only. The CLI also writes each
 * platform manifest's own digest there, which BuildKit's gateway does not tell a frontend
 * (ResolveImageConfig answers the index's). An index exists only for several platforms or when
 * attestations are attached; BuildKit refuses index annotations on a single manifest.
 */
export function baseAnnotationMetadata(base: RemoteBaseInBuildKit, exportsIndex: boolean): Record<string, Uint8Array> {
  const annotations = baseAnnotations(base.name, base.digest);
  const metadata: Record<string, Uint8Array> = {
    [`annotation-manifest.${BASE_NAME_ANNOTATION}`]: encoder.encode(base.name),
  };
  if (exportsIndex)
    for (const [key, value] of Object.entries(annotations)) metadata[`annotation-index.${key}`] = encoder.encode(value);
  return metadata;
}
