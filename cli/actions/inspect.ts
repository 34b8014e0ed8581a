import { GociError } from '../../common/errors.js';
import { inspectBinary } from '../../compiler/binary/inspect.js';
import { imageLocationOf, readImage, readImageSbom, type ReadOptions } from '../../inspect/read-image.js';
import type { InspectFlags } from '../commands/inspect.js';
import { describeReport } from '../describe-binary.js';
import { describeImage } from '../describe-image.js';
import { makeProgress, waitReporter } from '../progress.js';

/** `goci inspect TARGET`: a binary's or an image's report, or an image's SBOM. */
export async function inspect(target: string, flags: InspectFlags): Promise<void> {
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
}
