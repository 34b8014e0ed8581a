import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { parsePlatform } from '../compiler/platform.js';
import { exportsIndex, resultFor } from '../frontend/result.js';
import { AttestationKind, AttestationSchema, ResultSchema } from '../frontend/gen/gateway_pb.js';

const CONFIG = (arch: string): Uint8Array =>
  new TextEncoder().encode(JSON.stringify({ architecture: arch, os: 'linux' }));
const decoder = new TextDecoder();
const SBOM = (ref: string) =>
  create(AttestationSchema, {
    kind: AttestationKind.InToto,
    ref: { id: ref },
    path: '/goci.spdx.json',
    inTotoPredicateType: 'https://spdx.dev/Document',
  });

/** The Result as BuildKit receives it: serialised and read back. */
function roundTrip(result: ReturnType<typeof resultFor>): ReturnType<typeof resultFor> {
  return fromBinary(ResultSchema, toBinary(ResultSchema, result));
}

describe('the Result a frontend returns', () => {
  test('one platform: ref and containerimage.config, what Docker 20.10 exports', () => {
    const result = roundTrip(
      resultFor(
        [{ platform: parsePlatform('linux/arm64'), ref: 'ref-1', config: CONFIG('arm64'), attestations: [] }],
        true,
      ),
    );
    assert.equal(result.result.case, 'ref');
    assert.equal(result.result.case === 'ref' ? result.result.value.id : '', 'ref-1');
    assert.deepEqual(Object.keys(result.metadata), ['containerimage.config']);
    assert.deepEqual(JSON.parse(decoder.decode(result.metadata['containerimage.config'])), {
      architecture: 'arm64',
      os: 'linux',
    });
  });

  test('several platforms: refs by platform id, a config per id, and refs.platforms listing them', () => {
    const platforms = ['linux/amd64', 'linux/arm64', 'linux/arm/v7'].map((text) => parsePlatform(text));
    const result = roundTrip(
      resultFor(
        platforms.map((platform, index) => ({
          platform,
          ref: `ref-${index}`,
          config: CONFIG(platform.arch),
          attestations: [],
        })),
        true,
      ),
    );
    assert.equal(result.result.case, 'refs');
    const refs = result.result.case === 'refs' ? result.result.value.refs : {};
    assert.deepEqual(Object.fromEntries(Object.entries(refs).map(([id, ref]) => [id, ref.id])), {
      'linux/amd64': 'ref-0',
      'linux/arm64': 'ref-1',
      'linux/arm/v7': 'ref-2',
    });
    assert.deepEqual(JSON.parse(decoder.decode(result.metadata['refs.platforms'])), {
      Platforms: [
        { ID: 'linux/amd64', Platform: { architecture: 'amd64', os: 'linux' } },
        { ID: 'linux/arm64', Platform: { architecture: 'arm64', os: 'linux' } },
        { ID: 'linux/arm/v7', Platform: { architecture: 'arm', os: 'linux', variant: 'v7' } },
      ],
    });
    for (const id of ['linux/amd64', 'linux/arm64', 'linux/arm/v7'])
      assert.ok(result.metadata[`containerimage.config/${id}`], id);
  });

  test('without the proto.refarray capability the deprecated string refs are used', () => {
    const single = roundTrip(
      resultFor(
        [{ platform: parsePlatform('linux/amd64'), ref: 'ref-1', config: CONFIG('amd64'), attestations: [] }],
        false,
      ),
    );
    assert.deepEqual(single.result, { case: 'refDeprecated', value: 'ref-1' });
    const several = roundTrip(
      resultFor(
        ['linux/amd64', 'linux/arm64'].map((text, index) => ({
          platform: parsePlatform(text),
          ref: `r${index}`,
          config: CONFIG('x'),
          attestations: [],
        })),
        false,
      ),
    );
    assert.deepEqual(several.result.case === 'refsDeprecated' ? several.result.value.refs : {}, {
      'linux/amd64': 'r0',
      'linux/arm64': 'r1',
    });
  });

  test('one platform with an SBOM: attestations keyed by its platform id, which refs.platforms names', () => {
    const result = roundTrip(
      resultFor(
        [
          {
            platform: parsePlatform('linux/arm/v7'),
            ref: 'ref-1',
            config: CONFIG('arm'),
            attestations: [SBOM('sbom-1')],
          },
        ],
        true,
      ),
    );
    assert.equal(result.result.case, 'ref');
    assert.deepEqual(JSON.parse(decoder.decode(result.metadata['refs.platforms'])), {
      Platforms: [{ ID: 'linux/arm/v7', Platform: { architecture: 'arm', os: 'linux', variant: 'v7' } }],
    });
    assert.deepEqual(Object.keys(result.attestations), ['linux/arm/v7']);
    const [attestation] = result.attestations['linux/arm/v7']?.attestation ?? [];
    assert.deepEqual(
      [attestation?.kind, attestation?.ref?.id, attestation?.path, attestation?.inTotoPredicateType],
      [AttestationKind.InToto, 'sbom-1', '/goci.spdx.json', 'https://spdx.dev/Document'],
    );
  });

  test('several platforms: one SBOM attestation per platform id', () => {
    const platforms = ['linux/amd64', 'linux/arm64'].map((text) => parsePlatform(text));
    const result = roundTrip(
      resultFor(
        platforms.map((platform, index) => ({
          platform,
          ref: `ref-${index}`,
          config: CONFIG(platform.arch),
          attestations: [SBOM(`sbom-${index}`)],
        })),
        true,
      ),
    );
    assert.deepEqual(
      Object.fromEntries(
        Object.entries(result.attestations).map(([id, list]) => [id, list.attestation.map((item) => item.ref?.id)]),
      ),
      { 'linux/amd64': ['sbom-0'], 'linux/arm64': ['sbom-1'] },
    );
  });

  test('annotation metadata is added as given, next to the configs', () => {
    const metadata = { 'annotation-manifest.org.opencontainers.image.base.name': new TextEncoder().encode('x') };
    const result = roundTrip(
      resultFor(
        [{ platform: parsePlatform('linux/amd64'), ref: 'ref-1', config: CONFIG('amd64'), attestations: [] }],
        true,
        metadata,
      ),
    );
    assert.deepEqual(Object.keys(result.metadata).sort(), [
      'annotation-manifest.org.opencontainers.image.base.name',
      'containerimage.config',
    ]);
  });

  test('BuildKit exports an index for several platforms or for one with attestations, else one manifest', () => {
    const one = { platform: parsePlatform('linux/amd64'), ref: 'r', config: CONFIG('amd64'), attestations: [] };
    assert.equal(exportsIndex([one]), false);
    assert.equal(exportsIndex([{ ...one, attestations: [SBOM('s')] }]), true);
    assert.equal(exportsIndex([one, { ...one, platform: parsePlatform('linux/arm64') }]), true);
  });
});
