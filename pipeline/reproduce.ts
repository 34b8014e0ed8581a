import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { GociError } from '../common/errors.js';
import { defaultJobs } from '../compiler/default-jobs.js';
import { LAYER_COMPRESSION } from '../images/layer.js';
import { MEDIA_TYPES } from '../oci/media-types.js';
import type { RegistryClient } from '../registry/client.js';
import type { Progress } from './progress.js';
import type { RunSettings } from './prepare-image.js';
import { reportingHostBuilder } from './reporting-builder.js';
import { MANIFEST_TYPES } from './registry-image.js';
import { runBuild } from './run-build.js';

const run = promisify(execFile);

/** What a SLSA statement goci wrote says about how to build the image again. */
export interface RecordedBuild {
  commit: string;
  directory: string;
  config: string;
  version: string;
  sourceDateEpoch: number;
  imageFlags: Record<string, unknown>;
  platforms: string[];
  /** What fixed the compressed bytes when the image was built: the zlib version and goci's settings. */
  compression: string;
}

/** How one platform image compared: its digest as pushed and as rebuilt, and the first layer that differs. */
export interface PlatformComparison {
  platform: string;
  pushed: string;
  rebuilt: string | undefined;
  /** 0-based, in the manifest's layer order; undefined when the layers agree (or the platform was not rebuilt). */
  firstDifferentLayer?: number;
  /** The digests differ but the configs are one (the same diff_ids, uncompressed layers, settings). */
  sameContent?: boolean;
}

export interface Reproduction {
  /** The same index; or, where the image was compressed by another zlib or settings, the same configs throughout. */
  ok: boolean;
  /** Set when the recorded compression is not this goci's: compressed bytes cannot agree, so diff_ids were compared. */
  compression?: { recorded: string; here: string };
  index: { pushed: string; rebuilt: string };
  platforms: PlatformComparison[];
}

/** Reads the build parameters out of a provenance statement goci wrote. */
export function recordedBuild(statement: Record<string, any>, platforms: string[]): RecordedBuild {
  const definition = statement.predicate?.buildDefinition ?? {};
  const parameters = definition.externalParameters ?? {};
  const source = (definition.resolvedDependencies ?? []).find((item: { name?: string }) => item.name === 'source');
  const commit = source?.digest?.gitCommit;
  if (typeof commit !== 'string' || typeof parameters.version !== 'string')
    throw new GociError('VERIFY_FAILED', 'the provenance records no commit or version to rebuild from', {
      hint: 'reproduce images goci built from a git checkout with --provenance',
    });
  return {
    commit,
    directory: typeof parameters.directory === 'string' ? parameters.directory : '.',
    config: typeof parameters.config === 'string' ? parameters.config : 'goci.yaml',
    version: parameters.version,
    sourceDateEpoch: Number(definition.internalParameters?.sourceDateEpoch ?? 0),
    imageFlags: parameters.imageFlags ?? {},
    platforms,
    compression: compressionOf(
      statement.predicate?.runDetails?.builder?.version?.zlib,
      definition.internalParameters?.compression,
    ),
  };
}

/** The compression that fixes a layer's bytes, as one line: `zlib 1.3.1, gzip level 1 memLevel 9 …`. */
export function compressionOf(zlib: unknown, settings: unknown): string {
  const entries = Object.entries(typeof settings === 'object' && settings !== null ? settings : {});
  return [`zlib ${String(zlib ?? 'unknown')}`, ...entries.map(([name, value]) => `${name} ${String(value)}`)].join(
    ', ',
  );
}

/** What this goci compresses with: a rebuild here agrees byte for byte only with an image compressed the same way. */
export function compressionHere(): string {
  return compressionOf(process.versions.zlib, LAYER_COMPRESSION);
}

/**
 * Builds the recorded commit again from a local clone (`source`) with the recorded parameters,
 * and compares the result with what the registry holds: the index digest, and per platform the
 * manifest and, where they differ, the first differing layer.
 */
export async function reproduceImage(
  client: RegistryClient,
  repository: string,
  pushedIndex: { digest: string; platforms: { platform: string; digest: string }[] },
  recorded: RecordedBuild,
  source: string,
): Promise<Reproduction> {
  const work = await mkdtemp(join(tmpdir(), 'goci-reproduce-'));
  try {
    const checkout = join(work, 'source');
    await run('git', ['clone', '-q', '--no-checkout', source, checkout]);
    await run('git', ['-C', checkout, 'checkout', '-q', recorded.commit]).catch(() => {
      throw new GociError('VERIFY_FAILED', `--source ${source}: has no commit ${recorded.commit}`, {
        hint: 'give a clone that holds the recorded commit (git fetch it first)',
      });
    });
    const dir = join(checkout, recorded.directory);
    const dist = join(work, 'dist');
    const progress: Progress = { report: () => undefined, finish: () => undefined };
    const images = await runBuild({
      compile: {
        packages: [],
        config: join(dir, recorded.config),
        platforms: recorded.platforms,
        version: recorded.version,
        buildvcs: undefined,
        env: { ...process.env, SOURCE_DATE_EPOCH: String(recorded.sourceDateEpoch) },
      },
      settings: { ...(recorded.imageFlags as Partial<RunSettings>), dist, format: 'oci', sbom: 'none' } as RunSettings,
      builder: reportingHostBuilder({ dist, jobs: () => defaultJobs(), cache: true }, progress),
      progress,
      registry: { insecureRegistries: [], verbose: undefined },
    });
    const rebuilt = images?.[0];
    if (!rebuilt?.ociLayout) throw new GociError('VERIFY_FAILED', 'the rebuild made no image');
    const platforms: PlatformComparison[] = [];
    for (const pushed of pushedIndex.platforms) {
      const mine = rebuilt.platforms.find((item) => item.platform === pushed.platform);
      const comparison: PlatformComparison = {
        platform: pushed.platform,
        pushed: pushed.digest,
        rebuilt: mine?.digest,
      };
      if (mine && mine.digest !== pushed.digest) {
        const theirs = JSON.parse(
          (await client.getManifest(repository, pushed.digest, MANIFEST_TYPES)).bytes.toString(),
        );
        const ours = JSON.parse(
          await readFile(join(rebuilt.ociLayout, 'blobs', mine.digest.replace(':', '/')), 'utf8'),
        );
        const first = layerDigests(theirs).findIndex((digest, position) => layerDigests(ours)[position] !== digest);
        comparison.firstDifferentLayer =
          first === -1 ? Math.min(layerDigests(theirs).length, layerDigests(ours).length) : first;
        // The config names every layer by its uncompressed digest: one config, and layers that
        // decompress to those digests, is the same content.
        comparison.sameContent =
          theirs.config?.digest === ours.config?.digest &&
          (await layersMatchConfig(client, repository, theirs, ours, join(work, 'layers')));
      }
      platforms.push(comparison);
    }
    return reproduction(pushedIndex.digest, rebuilt.index.digest, platforms, recorded.compression);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/**
 * Whether a pushed image's layers hold the diff_ids its config names: the registry checks
 * compressed digests only, so the config's word for the content is checked here. A layer with
 * the very digest the rebuild's has at its place needs no reading; one goci cannot decompress
 * here (zstd) or that is damaged does not pass.
 */
async function layersMatchConfig(
  client: RegistryClient,
  repository: string,
  manifest: PushedManifest,
  rebuilt: PushedManifest,
  scratch: string,
): Promise<boolean> {
  if (!manifest.config) return false;
  const config = JSON.parse((await client.fetchBlobBytes(repository, manifest.config.digest, 4 << 20)).toString());
  const diffIds: unknown = config.rootfs?.diff_ids;
  const layers = manifest.layers ?? [];
  if (!Array.isArray(diffIds) || diffIds.length !== layers.length) return false;
  for (const [position, layer] of layers.entries()) {
    if (layer.digest === rebuilt.layers?.[position]?.digest) continue;
    const gzip = GZIP_LAYERS.includes(layer.mediaType);
    if (!gzip && !PLAIN_LAYERS.includes(layer.mediaType)) return false;
    const path = join(scratch, layer.digest.replace(':', '-'));
    await client.fetchBlobToFile(repository, layer.digest, layer.size, path);
    const hash = createHash('sha256');
    const read = gzip ? pipeline(createReadStream(path), createGunzip(), hash) : pipeline(createReadStream(path), hash);
    if (
      !(await read.then(
        () => true,
        () => false,
      ))
    )
      return false;
    if (`sha256:${hash.digest('hex')}` !== diffIds[position]) return false;
  }
  return true;
}

interface PushedManifest {
  config?: { digest: string };
  layers?: { mediaType: string; digest: string; size?: number }[];
}

const GZIP_LAYERS = [MEDIA_TYPES.oci.layerGzip, MEDIA_TYPES.docker.layerGzip];
const PLAIN_LAYERS = ['application/vnd.oci.image.layer.v1.tar', 'application/vnd.docker.image.rootfs.diff.tar'];

function layerDigests(manifest: { layers?: { digest: string }[] }): string[] {
  return (manifest.layers ?? []).map((layer) => layer.digest);
}

/**
 * The verdict: the same index digest; or, only when the image was compressed otherwise than
 * goci compresses here (another zlib or other settings, which change the compressed bytes and
 * nothing else), every platform with the very same config, so the same uncompressed layers.
 */
export function reproduction(
  pushed: string,
  rebuilt: string,
  platforms: PlatformComparison[],
  recordedCompression: string,
): Reproduction {
  const index = { pushed, rebuilt };
  const here = compressionHere();
  if (pushed === rebuilt || recordedCompression === here) return { ok: pushed === rebuilt, index, platforms };
  const ok = platforms.every((item) => item.rebuilt === item.pushed || item.sameContent === true);
  return { ok, index, platforms, compression: { recorded: recordedCompression, here } };
}
