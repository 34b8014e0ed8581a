import { rfc3339 } from '../../common/time.js';
import { readSigningKey } from '../../common/signing-key.js';
import { signImage } from '../../pipeline/sign.js';
import type { SignFlags } from '../commands/sign.js';
import { registryClientsFor } from '../registry-options.js';

/** `goci sign REF --key FILE`: signs the image and says which manifests and tags. */
export async function sign(reference: string, flags: SignFlags): Promise<void> {
  const key = await readSigningKey(flags.key);
  const clients = registryClientsFor(flags);
  // The bundles say when they were made: the signing is an event, unlike the image it signs.
  const created = rfc3339(Math.floor(Date.now() / 1000));
  const signed = await signImage(clients, reference, key, { created });
  process.stdout.write(
    flags.json
      ? `${JSON.stringify({ signed }, null, 2)}\n`
      : signed
          .map(
            (item) =>
              `signed ${item.digest} (${item.tag}${item.bundle ? `, bundle ${item.bundle === 'already-there' ? 'already there' : `by ${item.bundle}`}` : ''})\n`,
          )
          .join(''),
  );
}
