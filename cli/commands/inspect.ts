import { Command } from 'commander';
import { GociError } from '../../common/errors.js';
import { inspectBinary } from '../../compiler/binary/inspect.js';
import type { BinaryReport, Module } from '../../compiler/binary/types.js';
import { formatPlatform } from '../../compiler/platform.js';
import {
  imageReferenceOf,
  readImage,
  readImageSbom,
  type ImageReport,
  type PlatformReport,
  type ReadOptions,
} from '../../images/read-image.js';
import type { ReferrerReport } from '../../images/referrers.js';
import { formatSize } from '../table.js';
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
      const image = await imageReferenceOf(target);
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

function moduleLine(module: Module): string {
  const own = [module.path, module.version, module.sum].filter(Boolean).join(' ');
  return module.replace ? `${own} => ${moduleLine(module.replace)}` : own;
}

function describeReport(file: string, report: BinaryReport): string {
  const platform = formatPlatform({
    os: report.os,
    arch: report.arch,
    ...(report.variant ? { variant: report.variant } : {}),
  });
  const lines = [
    `file:      ${file}`,
    `format:    ${report.format}`,
    `platform:  ${platform}`,
    `linking:   ${report.static ? 'static' : 'dynamic'}`,
  ];
  if (report.interpreter) lines.push(`interp:    ${report.interpreter}`);
  if (report.needed.length > 0) lines.push(`needs:     ${report.needed.join(', ')}`);
  const info = report.buildInfo;
  if (!info) return `${lines.join('\n')}\ngo:        (no Go build info)\n`;
  lines.push(`go:        ${info.goVersion}`, `path:      ${info.path}`);
  if (info.main) lines.push(`module:    ${moduleLine(info.main)}`);
  lines.push(`deps:      ${info.deps.length}`, ...info.deps.map((dep) => `  ${moduleLine(dep)}`));
  lines.push('settings:', ...info.settings.map((setting) => `  ${setting.key}=${setting.value}`));
  return `${lines.join('\n')}\n`;
}

function describeImage(report: ImageReport): string {
  const lines = [`reference:  ${report.reference}`];
  if (report.index) lines.push(`index:      ${report.index.digest}`);
  return `${[lines.join('\n'), ...report.platforms.map(describePlatform)].join('\n\n')}\n`;
}

/** One platform: its documents, runtime settings and labels, then the entrypoint program as describeReport prints a binary, indented. */
function describePlatform(platform: PlatformReport): string {
  const labels = Object.keys(platform.labels).sort();
  const lines = [
    `platform:   ${platform.platform}`,
    `manifest:   ${platform.manifest ?? '(none: the source has no manifest)'}`,
    `config:     ${platform.config}`,
    `size:       ${formatSize(platform.size)} (${platform.size} bytes)`,
    `entrypoint: ${platform.entrypoint.length > 0 ? JSON.stringify(platform.entrypoint) : '(none)'}`,
    `user:       ${platform.user || '(not set: root)'}`,
    `workdir:    ${platform.workingDir || '(not set: /)'}`,
    labels.length > 0 ? 'labels:' : 'labels:     (none)',
    ...labels.map((key) => `  ${key}=${platform.labels[key]}`),
    platform.referrers.length > 0 ? 'referrers:' : 'referrers:  (none)',
    ...platform.referrers.flatMap(describeReferrer),
    'binary:',
    ...describeReport(platform.entrypoint[0] ?? '(command)', platform.binary)
      .trimEnd()
      .split('\n')
      .map((line) => `  ${line}`),
  ];
  return lines.join('\n');
}

/** A referrer: its digest, type and size, then its annotations, sorted. */
function describeReferrer(referrer: ReferrerReport): string[] {
  const keys = Object.keys(referrer.annotations).sort();
  return [
    `  ${referrer.digest} ${referrer.artifactType} (${referrer.size} bytes)`,
    ...keys.map((key) => `    ${key}=${referrer.annotations[key]}`),
  ];
}
