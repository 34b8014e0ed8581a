import type { ImageReport, PlatformReport } from '../inspect/read-image.js';
import type { ReferrerReport } from '../inspect/referrers.js';
import { describeReport } from './describe-binary.js';
import { formatSize } from './table.js';

/** What `goci inspect IMAGE` prints: the reference, the index, then each platform. */
export function describeImage(report: ImageReport): string {
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
    `cmd:        ${platform.cmd.length > 0 ? JSON.stringify(platform.cmd) : '(none)'}`,
    platform.env.length > 0 ? 'env:' : 'env:        (none)',
    ...platform.env.map((entry) => `  ${entry}`),
    `user:       ${platform.user || '(not set: root)'}`,
    `workdir:    ${platform.workingDir || '(not set: /)'}`,
    `ports:      ${platform.exposedPorts.join(', ') || '(none)'}`,
    `volumes:    ${platform.volumes.join(', ') || '(none)'}`,
    `stopsignal: ${platform.stopSignal || '(not set: SIGTERM)'}`,
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
