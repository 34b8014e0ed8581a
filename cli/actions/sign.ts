import { readSigningKey } from '../../common/signing-key.js';
import { signImage } from '../../pipeline/sign.js';
import { RegistryClients } from '../../registry/clients.js';
import type { SignFlags } from '../commands/sign.js';
import { makeProgress, waitReporter } from '../progress.js';

/** `goci sign REF --key FILE`: signs the image and says which manifests and tags. */
export async function sign(reference: string, flags: SignFlags): Promise<void> {
  const key = await readSigningKey(flags.key);
  const verbose = flags.verbose ? (line: string) => process.stderr.write(`goci: ${line}\n`) : undefined;
  const progress = makeProgress('plain', flags.verbose === true);
  const clients = new RegistryClients({
    insecureRegistries: flags.insecureRegistry ?? [],
    verbose,
    onWait: waitReporter(() => progress),
  });
  const signed = await signImage(clients, reference, key);
  process.stdout.write(
    flags.json
      ? `${JSON.stringify({ signed }, null, 2)}\n`
      : signed.map((item) => `signed ${item.digest} (${item.tag})\n`).join(''),
  );
}
