import { GociError } from '../../common/errors.js';
import { readVerificationKey } from '../../common/signing-key.js';
import { found } from '../../common/found.js';
import { recordedBuild, reproduceImage, type Reproduction } from '../../pipeline/reproduce.js';
import {
  verdictOk,
  verifyImage,
  type ManifestVerdict,
  type VerifyResult,
  type VerifySource,
} from '../../pipeline/verify.js';
import { isLayoutReference, parseLayoutReference } from '../layout-reference.js';
import { parseReference } from '../../registry/reference.js';
import type { RegistryClients } from '../../registry/clients.js';
import type { VerifyFlags } from '../commands/verify.js';
import { registryClientsFor } from '../registry-options.js';

/** `goci verify REF --key PUB`: a verdict per manifest; a non-zero exit naming the first that fails. */
export async function verify(reference: string, flags: VerifyFlags): Promise<void> {
  const key = await readVerificationKey(flags.key);
  const clients = registryClientsFor(flags);
  if (flags.reproduce && flags.source === undefined)
    throw new GociError('BAD_ARGUMENT', '--reproduce: no --source to rebuild from', {
      hint: 'give --source DIR, a local clone of the repository the image was built from',
    });
  const layout = isLayoutReference(reference);
  if (layout && flags.reproduce)
    throw new GociError('BAD_ARGUMENT', `--reproduce ${reference}: rebuilds compare with an image in a registry`, {
      hint: 'push the layout (goci push oci:DIR REPOSITORY), then verify --reproduce the pushed reference',
    });
  const source: VerifySource = layout
    ? { kind: 'layout', ...parseLayoutReference(reference) }
    : { kind: 'registry', reference };
  const result = await verifyImage(clients, source, key, {
    provenance: flags.provenance === true || flags.reproduce === true,
    sbom: flags.sbom === true,
  });
  const { statements, ...shown } = result;
  const failed = result.verdicts.find((item) => !verdictOk(item));
  const reproduction =
    flags.reproduce && !failed ? await reproduce(clients, reference, result, flags.source!) : undefined;
  process.stdout.write(
    flags.json
      ? `${JSON.stringify({ ...shown, ...(reproduction ? { reproduction } : {}) }, null, 2)}\n`
      : [...result.verdicts.map(describe), ...(reproduction ? describeReproduction(reproduction) : [])]
          .map((line) => `${line}\n`)
          .join(''),
  );
  if (failed)
    throw new GociError('VERIFY_FAILED', `${reference}: ${describe(failed)}`, {
      hint: 'sign it with the key (goci sign), or check that the reference names the image you meant',
    });
  if (reproduction && !reproduction.ok) {
    // Another compression excuses other layer bytes over the same config; the same compression excuses nothing.
    const excused = (item: Reproduction['platforms'][number]): boolean =>
      reproduction.compression !== undefined && item.sameContent === true;
    const differing = reproduction.platforms.find((item) => item.rebuilt !== item.pushed && !excused(item));
    const digests = differing && `(pushed ${differing.pushed}, rebuilt ${differing.rebuilt ?? 'none'})`;
    // Compressed another way, every layer's digest differs: only the config (the diff_ids) says where.
    const where = !differing
      ? `the index differs (pushed ${reproduction.index.pushed}, rebuilt ${reproduction.index.rebuilt})`
      : reproduction.compression
        ? `${differing.platform} has other uncompressed layers or config ${digests}`
        : `${differing.platform} differs from layer ${differing.firstDifferentLayer ?? '?'} on ${digests}`;
    throw new GociError('VERIFY_FAILED', `${reference}: not reproduced: ${where}`, {
      hint: 'the image was not built from the recorded commit as recorded (uncommitted changes, other flags)',
    });
  }
}

async function reproduce(
  clients: RegistryClients,
  reference: string,
  result: VerifyResult,
  source: string,
): Promise<Reproduction> {
  const ref = parseReference(reference);
  const platforms = result.verdicts.filter((item) => item.platform !== undefined) as {
    platform: string;
    digest: string;
  }[];
  const statement = found(
    result.statements.get(platforms[0]?.digest ?? result.digest),
    'a verified provenance statement',
  );
  const recorded = recordedBuild(
    statement,
    platforms.map((item) => item.platform),
  );
  return reproduceImage(
    clients.for(ref.registry),
    ref.repository,
    { digest: result.digest, platforms },
    recorded,
    source,
  );
}

function describeReproduction(reproduction: Reproduction): string[] {
  const { compression } = reproduction;
  const how = compression && reproduction.ok ? ', by diff_ids' : '';
  return [
    `reproduced: ${reproduction.ok ? 'yes' : 'no'}${how} ` +
      `(index pushed ${reproduction.index.pushed}, rebuilt ${reproduction.index.rebuilt})`,
    ...(compression
      ? [`  compressed otherwise when pushed (${compression.recorded}) than here (${compression.here})`]
      : []),
    ...reproduction.platforms.map((item) => `  ${item.platform}: ${platformOutcome(item)}`),
  ];
}

function platformOutcome(item: Reproduction['platforms'][number]): string {
  if (item.rebuilt === item.pushed) return 'same';
  if (item.sameContent) return 'same config and uncompressed layers (diff_ids)';
  return `differs from layer ${item.firstDifferentLayer ?? '?'}`;
}

function describe(verdict: ManifestVerdict): string {
  const what = verdict.platform ? `${verdict.platform} ${verdict.digest}` : `index ${verdict.digest}`;
  const provenance = verdict.provenance === undefined ? '' : `, provenance ${verdict.provenance}`;
  const sbom = verdict.sbom === undefined ? '' : `, sbom ${verdict.sbom}`;
  return `${what}: signature ${verdict.signature}, bundle ${verdict.bundle}${provenance}${sbom}`;
}
