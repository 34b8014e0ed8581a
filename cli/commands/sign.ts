import { Command } from 'commander';
import { addRegistryOptions, type RegistryFlags } from '../registry-options.js';

export interface SignFlags extends RegistryFlags {
  key: string;
}

export function signCommand(): Command {
  const command = new Command('sign')
    .description(
      'sign an image in its registry as cosign sign --key does: the index and each platform image, under sha256-<hex>.sig',
    )
    .argument('<reference>', 'the image: REGISTRY/REPOSITORY[:TAG|@DIGEST]')
    .requiredOption('--key <file>', 'PEM EC P-256 private key (goci keygen, or openssl genpkey)');
  return addRegistryOptions(command).action(async (reference: string, flags: SignFlags) =>
    (await import('../actions/sign.js')).sign(reference, flags),
  );
}
