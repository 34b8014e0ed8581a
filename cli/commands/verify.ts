import { Command } from 'commander';
import { addRegistryOptions, type RegistryFlags } from '../registry-options.js';

export interface VerifyFlags extends RegistryFlags {
  key: string;
  provenance?: boolean;
  sbom?: boolean;
  reproduce?: boolean;
  source?: string;
}

export function verifyCommand(): Command {
  const command = new Command('verify')
    .description(
      'check an image in its registry: a signature by the key over each manifest (index and platforms) naming its repository',
    )
    .argument(
      '<reference>',
      'the image: REGISTRY/REPOSITORY[:TAG|@DIGEST], or oci:DIR[:TAG] (an OCI layout, bundles only)',
    )
    .requiredOption('--key <file>', 'PEM public key (goci keygen writes PREFIX.pub)')
    .option('--provenance', 'also require a SLSA provenance statement about each platform image, signed by the key')
    .option(
      '--sbom',
      'also require an SBOM attestation about each platform image, signed by the key (--sign attests them)',
    )
    .option('--reproduce', 'rebuild the recorded commit from --source with the recorded parameters and compare digests')
    .option('--source <dir>', 'a local clone holding the recorded commit (for --reproduce)');
  return addRegistryOptions(command).action(async (reference: string, flags: VerifyFlags) =>
    (await import('../actions/verify.js')).verify(reference, flags),
  );
}
