import { GociError } from '../../common/errors.js';
import { readVerificationKey } from '../../common/signing-key.js';
import { verifyImage, type ManifestVerdict } from '../../pipeline/verify.js';
import { RegistryClients } from '../../registry/clients.js';
import type { VerifyFlags } from '../commands/verify.js';
import { makeProgress, waitReporter } from '../progress.js';

/** `goci verify REF --key PUB`: a verdict per manifest; a non-zero exit naming the first that fails. */
export async function verify(reference: string, flags: VerifyFlags): Promise<void> {
  const key = await readVerificationKey(flags.key);
  const verbose = flags.verbose ? (line: string) => process.stderr.write(`goci: ${line}\n`) : undefined;
  const progress = makeProgress('plain', flags.verbose === true);
  const clients = new RegistryClients({
    insecureRegistries: flags.insecureRegistry ?? [],
    verbose,
    onWait: waitReporter(() => progress),
  });
  const result = await verifyImage(clients, reference, key, { provenance: flags.provenance === true });
  process.stdout.write(
    flags.json ? `${JSON.stringify(result, null, 2)}\n` : result.verdicts.map((item) => `${describe(item)}\n`).join(''),
  );
  const failed = result.verdicts.find((item) => item.signature !== 'ok' || (item.provenance ?? 'ok') !== 'ok');
  if (failed)
    throw new GociError('VERIFY_FAILED', `${reference}: ${describe(failed)}`, {
      hint: 'sign it with the key (goci sign), or check that the reference names the image you meant',
    });
}

function describe(verdict: ManifestVerdict): string {
  const what = verdict.platform ? `${verdict.platform} ${verdict.digest}` : `index ${verdict.digest}`;
  const provenance = verdict.provenance === undefined ? '' : `, provenance ${verdict.provenance}`;
  return `${what}: signature ${verdict.signature}${provenance}`;
}
