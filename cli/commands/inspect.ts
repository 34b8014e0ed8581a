import { Command } from 'commander';
import { inspectBinary } from '../../compiler/binary/inspect.js';
import type { BinaryReport, Module } from '../../compiler/binary/types.js';
import { formatPlatform } from '../../compiler/platform.js';
import { imageReferenceOf, readImage, type ImageReport, type PlatformReport } from '../../images/read-image.js';
import { formatSize } from '../table.js';

export function inspectCommand(): Command {
  return new Command('inspect')
    .description('read a binary\'s headers (OS, arch, static or dynamic) and its embedded Go build info, without running go; or an image\'s platforms, labels and the Go build info of its entrypoint')
    .argument('<target>', 'an ELF, PE or Mach-O file, or an image: oci:DIR[:TAG], oci-archive:FILE[:TAG], docker-archive:FILE[:NAME]')
    .option('--json', 'print the report as JSON')
    .action(async (target: string, flags: { json?: boolean }) => {
      const image = await imageReferenceOf(target);
      if (image !== undefined) {
        const report = await readImage(image);
        process.stdout.write(flags.json ? `${JSON.stringify(report, null, 2)}\n` : describeImage(report));
        return;
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
  const platform = formatPlatform({ os: report.os, arch: report.arch, ...(report.variant ? { variant: report.variant } : {}) });
  const lines = [`file:      ${file}`, `format:    ${report.format}`, `platform:  ${platform}`, `linking:   ${report.static ? 'static' : 'dynamic'}`];
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
    'binary:',
    ...describeReport(platform.entrypoint[0] ?? '(command)', platform.binary).trimEnd().split('\n').map((line) => `  ${line}`),
  ];
  return lines.join('\n');
}
