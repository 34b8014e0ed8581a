import { Command } from 'commander';
import { collect } from '../collect.js';

export interface VerifyFlags {
  key: string;
  provenance?: boolean;
  reproduce?: boolean;
  sbom?: boolean;
  source?: string;
  insecureRegistry?: string[];
  json?: boolean;
  verbose?: boolean;
}

export function verifyCommand(): Command {
  return new Command('verify')
    .description(
      'check an image in its registry: a signature by the key over each manifest (index and platforms) naming its repository',
    )
    .argument('<reference>', 'the image: REGISTRY/REPOSITORY[:TAG|@DIGEST]')
    .requiredOption('--key <file>', 'PEM public key (goci keygen writes PREFIX.pub)')
    .option('--provenance', 'also require a SLSA provenance statement about each platform image, signed by the key')
    .option(
      '--sbom',
      'also require an SBOM attestation about each platform image, signed by the key (--sign attests them)',
    )
    .option('--reproduce', 'rebuild the recorded commit from --source with the recorded parameters and compare digests')
    .option('--source <dir>', 'a local clone holding the recorded commit (for --reproduce)')
    .option(
      '--insecure-registry <host>',
      'allow plain HTTP to this registry (loopback always may) (repeatable)',
      collect,
    )
    .option('-v, --verbose', 'log each registry request (never a credential)')
    .option('--json', 'print the verdicts as JSON')
    .action(async (reference: string, flags: VerifyFlags) =>
      (await import('../actions/verify.js')).verify(reference, flags),
    );
}
