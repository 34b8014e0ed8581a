import type { OciPlatform } from './descriptor.js';

/** A target as OCI spells it: os/arch[/variant], already normalised. */
export interface Platform {
  os: string;
  arch: string;
  variant?: string;
}

/** goci's os/arch/variant as the OCI platform object (arm64 and amd64/v1 carry no variant). */
export function ociPlatform(platform: Platform): OciPlatform {
  return { architecture: platform.arch, os: platform.os, ...(platform.variant ? { variant: platform.variant } : {}) };
}
