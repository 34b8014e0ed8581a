import { Command } from 'commander';

export interface KeygenFlags {
  output: string;
  force?: boolean;
  encrypted?: boolean;
}

export function keygenCommand(): Command {
  return new Command('keygen')
    .description('write a new EC P-256 key pair for goci sign: PREFIX.key (PEM PKCS#8, mode 0600) and PREFIX.pub')
    .option('-o, --output <prefix>', 'path prefix of the two files', 'goci')
    .option('--force', 'replace existing files')
    .option(
      '--encrypted',
      "seal the private key in cosign's encrypted format; the password from COSIGN_PASSWORD or standard input",
    )
    .action(async (flags: KeygenFlags) => (await import('../actions/keygen.js')).keygen(flags));
}
