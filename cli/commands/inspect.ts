import { Command } from 'commander';
import { GociError } from '../../common/errors.js';
import { inspectBinary } from '../../compiler/binary/inspect.js';
import { imageLocationOf, readImage, readImageSbom, type ReadOptions } from '../../inspect/read-image.js';
import { describeReport } from '../describe-binary.js';
import { describeImage } from '../describe-image.js';
import { collect } from '../collect.js';
import { makeProgress, progressOption, waitReporter, type ProgressMode } from '../progress.js';

interface InspectFlags {
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
    .action(async (target: string, flags: InspectFlags) => {
      const image = await imageLocationOf(target);
      if (flags.platform !== undefined && !flags.sbom) {
        throw new GociError('BAD_ARGUMENT', '--platform goes with --sbom', {
          hint: "goci inspect reports every platform of an image; --sbom --platform os/arch prints one platform's SBOM",
        });
      }
      if (image !== undefined) {
        const progress = makeProgress(flags.progress, flags.verbose === true);
        const options: ReadOptions = {
          insecureRegistries: flags.insecureRegistry ?? [],
          onWait: waitReporter(() => progress),
          ...(flags.verbose ? { verbose: (line: string) => process.stderr.write(`goci: ${line}\n`) } : {}),
        };
        if (flags.sbom) {
          const { sbom } = await readImageSbom(image, flags.platform, options).finally(() => progress.finish());
          process.stdout.write(`${JSON.stringify(sbom.document, null, 2)}\n`);
          return;
        }
        const report = await readImage(image, options).finally(() => progress.finish());
        process.stdout.write(flags.json ? `${JSON.stringify(report, null, 2)}\n` : describeImage(report));
        return;
      }
      if (flags.sbom) {
        throw new GociError('BAD_ARGUMENT', `--sbom reads an image's SBOM, and ${target} is not an image reference`, {
          hint: 'name the image, such as oci:dist/oci:1.2.3 or docker://ghcr.io/acme/api:1.2.3',
        });
      }
      const report = await inspectBinary(target);
      process.stdout.write(flags.json ? `${JSON.stringify(report, null, 2)}\n` : describeReport(target, report));
    });
}
