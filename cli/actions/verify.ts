import { GociError } from '../../common/errors.js';
import { readVerificationKey } from '../../common/signing-key.js';
import { found } from '../../common/found.js';
import { recordedBuild, reproduceImage, type Reproduction } from '../../pipeline/reproduce.js';
import { verdictOk, verifyImage, type ManifestVerdict, type VerifyResult } from '../../pipeline/verify.js';
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
  const result = await verifyImage(clients, reference, key, {
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
    const differing = reproduction.platforms.find((item) => item.rebuilt !== item.pushed);
    const where = differing
      ? `${differing.platform} differs from layer ${differing.firstDifferentLayer ?? '?'} on (pushed ${differing.pushed}, rebuilt ${differing.rebuilt ?? 'none'})`
      : `the index differs (pushed ${reproduction.index.pushed}, rebuilt ${reproduction.index.rebuilt})`;
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
  return [
    `reproduced: ${reproduction.ok ? 'yes' : 'no'} (index pushed ${reproduction.index.pushed}, rebuilt ${reproduction.index.rebuilt})`,
    ...reproduction.platforms.map(
      (item) =>
        `  ${item.platform}: ${item.rebuilt === item.pushed ? 'same' : `differs from layer ${item.firstDifferentLayer ?? '?'}`}`,
    ),
  ];
}

function describe(verdict: ManifestVerdict): string {
  const what = verdict.platform ? `${verdict.platform} ${verdict.digest}` : `index ${verdict.digest}`;
  const provenance = verdict.provenance === undefined ? '' : `, provenance ${verdict.provenance}`;
  const sbom = verdict.sbom === undefined ? '' : `, sbom ${verdict.sbom}`;
  return `${what}: signature ${verdict.signature}, bundle ${verdict.bundle}${provenance}${sbom}`;
}
