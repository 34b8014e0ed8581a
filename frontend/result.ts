import { create } from '@bufbuild/protobuf';
import { found } from '../common/found.js';
import { formatPlatform } from '../compiler/platform.js';
import type { Platform } from '../oci/platform.js';
import { ociPlatform } from '../oci/platform.js';
import { ResultSchema, type Attestation, type Result } from './gen/gateway_pb.js';

const encoder = new TextEncoder();

/** One platform's image as the frontend returns it. */
export interface PlatformResult {
  platform: Platform;
  ref: string;
  config: Uint8Array;
  attestations: Attestation[];
}

/** Whether BuildKit's image exporter writes an index for this result (else one manifest). */
export function exportsIndex(results: PlatformResult[]): boolean {
  return results.length > 1 || results.some((result) => result.attestations.length > 0);
}

/** `refs.platforms`: the platform id of each image, which refs, configs and attestations are keyed by. */
function platformsMetadata(results: PlatformResult[]): Uint8Array {
  const platforms = results.map(({ platform }) => ({ ID: formatPlatform(platform), Platform: ociPlatform(platform) }));
  return encoder.encode(JSON.stringify({ Platforms: platforms }));
}

/** Attestations by platform id (BuildKit >= 0.11); platforms without any are left out. */
function attestationsByPlatform(results: PlatformResult[]): Record<string, { attestation: Attestation[] }> {
  return Object.fromEntries(
    results
      .filter((result) => result.attestations.length > 0)
      .map((result) => [formatPlatform(result.platform), { attestation: result.attestations }]),
  );
}

/**
 * One platform: `ref` and `containerimage.config` (all Docker 20.10's image store exports), plus
 * `refs.platforms` when it carries attestations, so their platform id is the one given here.
 * Several: `refs` by platform id, a config per id, and `refs.platforms` listing them. `metadata`
 * (annotations) is added as given.
 */
export function resultFor(
  results: PlatformResult[],
  refArray: boolean,
  metadata: Record<string, Uint8Array> = {},
): Result {
  const attestations = attestationsByPlatform(results);
  if (results.length === 1) {
    const only = found(results[0], 'the result of the only platform');
    return create(ResultSchema, {
      result: refArray ? { case: 'ref', value: { id: only.ref } } : { case: 'refDeprecated', value: only.ref },
      metadata: {
        'containerimage.config': only.config,
        ...(Object.keys(attestations).length > 0 ? { 'refs.platforms': platformsMetadata(results) } : {}),
        ...metadata,
      },
      attestations,
    });
  }
  const configs = results.map(({ platform, config }) => [`containerimage.config/${formatPlatform(platform)}`, config]);
  const ids = results.map(({ platform, ref }) => [formatPlatform(platform), ref] as const);
  return create(ResultSchema, {
    result: refArray
      ? { case: 'refs', value: { refs: Object.fromEntries(ids.map(([id, ref]) => [id, { id: ref }])) } }
      : { case: 'refsDeprecated', value: { refs: Object.fromEntries(ids) } },
    metadata: { ...Object.fromEntries(configs), 'refs.platforms': platformsMetadata(results), ...metadata },
    attestations,
  });
}
