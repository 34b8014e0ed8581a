import type { Platform } from '../oci/platform.js';

function platformSuffix(platform: Platform, separator: string): string {
  return `${platform.os}${separator}${platform.arch}${platform.variant ?? ''}`;
}

/** `<name>-<version>-<os>-<arch>[<variant>][.exe]`: one file per target, never overwritten by another. */
export function binaryFileName(binary: string, version: string, platform: Platform): string {
  return `${binary}-${version}-${platformSuffix(platform, '-')}${platform.os === 'windows' ? '.exe' : ''}`;
}

/** The name the binary has inside images and archives: what users type to run it. */
export function installedBinaryName(binary: string, platform: Platform): string {
  return platform.os === 'windows' ? `${binary}.exe` : binary;
}

/** `<name>_<version>_<os>_<arch>[<variant>].tar.gz`, `.zip` for Windows, as release pages expect. */
export function archiveFileName(binary: string, version: string, platform: Platform): string {
  return `${binary}_${version}_${platformSuffix(platform, '_')}${platform.os === 'windows' ? '.zip' : '.tar.gz'}`;
}
