import { Command } from 'commander';
import { inspectBinary } from '../../compiler/binary/inspect.js';
import type { BinaryReport, Module } from '../../compiler/binary/types.js';
import { formatPlatform } from '../../compiler/platform.js';

export function inspectCommand(): Command {
  return new Command('inspect')
    .description('read a binary\'s headers (OS, arch, static or dynamic) and its embedded Go build info, without running go')
    .argument('<file>', 'an ELF, PE or Mach-O file')
    .option('--json', 'print the report as JSON')
    .action(async (file: string, flags: { json?: boolean }) => {
      const report = await inspectBinary(file);
      process.stdout.write(flags.json ? `${JSON.stringify(report, null, 2)}\n` : describeReport(file, report));
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
