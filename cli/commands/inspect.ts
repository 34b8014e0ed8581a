import { Command } from 'commander';
import { collect } from '../collect.js';
import { progressOption, type ProgressMode } from '../progress.js';

export interface InspectFlags {
  json?: boolean;
  sbom?: boolean;
  platform?: string;
  insecureRegistry?: string[];
  verbose?: boolean;
  progress?: ProgressMode;
}

export function inspectCommand(): Command {
  return new Command('inspect')
    .description(
      "read a binary's headers (OS, arch, static or dynamic) and its embedded Go build info, without running go; or an image's platforms, labels, referrers and the Go build info of its entrypoint",
    )
    .argument(
      '<target>',
      'an ELF, PE or Mach-O file, or an image: oci:DIR[:TAG], oci-archive:FILE[:TAG], docker-archive:FILE[:NAME], docker://REGISTRY/REPO[:TAG|@DIGEST]',
    )
    .option('--json', 'print the report as JSON')
    .option('--sbom', 'print the SBOM attached to one platform image (SPDX or CycloneDX JSON), nothing else')
    .option(
      '--platform <platform>',
      "with --sbom: the platform image, os/arch[/variant] (default: the only one, else this machine's)",
    )
    .option(
      '--insecure-registry <host>',
      'allow plain HTTP to this registry (loopback registries always may) (repeatable)',
      collect,
    )
    .option('-v, --verbose', 'print each registry request (never credentials)')
    .addOption(progressOption())
    .action(async (target: string, flags: InspectFlags) =>
      (await import('../actions/inspect.js')).inspect(target, flags),
    );
}
