import { Command } from 'commander';
import { collect } from '../collect.js';

export interface SignFlags {
  key: string;
  insecureRegistry?: string[];
  json?: boolean;
  verbose?: boolean;
}

export function signCommand(): Command {
  return new Command('sign')
    .description(
      'sign an image in its registry as cosign sign --key does: the index and each platform image, under sha256-<hex>.sig',
    )
    .argument('<reference>', 'the image: REGISTRY/REPOSITORY[:TAG|@DIGEST]')
    .requiredOption('--key <file>', 'PEM EC P-256 private key (goci keygen, or openssl genpkey)')
    .option(
      '--insecure-registry <host>',
      'allow plain HTTP to this registry (loopback always may) (repeatable)',
      collect,
    )
    .option('-v, --verbose', 'log each registry request (never a credential)')
    .option('--json', 'print the result as JSON')
    .action(async (reference: string, flags: SignFlags) => (await import('../actions/sign.js')).sign(reference, flags));
}
