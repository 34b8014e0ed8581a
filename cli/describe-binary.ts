import type { BinaryReport, Module } from '../compiler/binary/types.js';
import { formatPlatform } from '../compiler/platform.js';

function moduleLine(module: Module): string {
  const own = [module.path, module.version, module.sum].filter(Boolean).join(' ');
  return module.replace ? `${own} => ${moduleLine(module.replace)}` : own;
}

/** What `goci inspect FILE` prints for a binary. */
export function describeReport(file: string, report: BinaryReport): string {
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
