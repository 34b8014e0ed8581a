import { Command } from 'commander';

export interface KeygenFlags {
  output: string;
  force?: boolean;
}

export function keygenCommand(): Command {
  return new Command('keygen')
    .description('write a new EC P-256 key pair for goci sign: PREFIX.key (PEM PKCS#8, mode 0600) and PREFIX.pub')
    .option('-o, --output <prefix>', 'path prefix of the two files', 'goci')
    .option('--force', 'replace existing files')
    .action(async (flags: KeygenFlags) => (await import('../actions/keygen.js')).keygen(flags));
}
