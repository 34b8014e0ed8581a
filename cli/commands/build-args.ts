import { Command } from 'commander';

export interface BuildArgsFlags {
  config?: string;
  version?: string;
  json?: boolean;
}

export function buildArgsCommand(): Command {
  return new Command('build-args')
    .description(
      "print --build-arg flags that give the frontend the CLI's stamp (version, revision, date, source) from git, for docker build $(goci build-args)",
    )
    .argument('[dir]', 'directory of a Go main package or a goci.yaml (default: the current directory)')
    .option('-c, --config <file>', 'goci.yaml to use instead of <dir>/goci.yaml')
    .option('--version <semver>', 'the version to stamp (default: derived from git tags)')
    .option('--json', 'print the build args as a JSON object')
    .action(async (dir: string | undefined, flags: BuildArgsFlags) =>
      (await import('../actions/build-args.js')).buildArgs(dir, flags),
    );
}
