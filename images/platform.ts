import type { Platform } from '../compiler/platform.js';
import type { OciPlatform } from './descriptor.js';

/** goci's os/arch/variant as the OCI platform object (arm64 and amd64/v1 carry no variant). */
export function ociPlatform(platform: Platform): OciPlatform {
  return { architecture: platform.arch, os: platform.os, ...(platform.variant ? { variant: platform.variant } : {}) };
}
