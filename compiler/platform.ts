import { GociError } from '../common/errors.js';
import type { Platform } from '../oci/platform.js';

/** One GOOS/GOARCH pair the installed toolchain can build, from `go tool dist list -json`. */
export interface GoPort {
  os: string;
  arch: string;
  firstClass: boolean;
}

/** The environment that selects a target in `go build`. */
export interface GoTargetEnv {
  GOOS: string;
  GOARCH: string;
  GOARM?: string;
  GOAMD64?: string;
}

const VARIANTS: Record<string, readonly string[]> = {
  arm: ['v5', 'v6', 'v7'],
  amd64: ['v1', 'v2', 'v3', 'v4'],
  arm64: ['v8'],
};

/** Architecture spellings other tools use, mapped the way containerd's platforms.Normalize does. */
const ARCH_ALIASES: Record<string, { arch: string; variant?: string }> = {
  x86_64: { arch: 'amd64' },
  'x86-64': { arch: 'amd64' },
  aarch64: { arch: 'arm64' },
  armhf: { arch: 'arm', variant: 'v7' },
  armel: { arch: 'arm', variant: 'v6' },
  i386: { arch: '386' },
};

export function formatPlatform(platform: Platform): string {
  return platform.variant ? `${platform.os}/${platform.arch}/${platform.variant}` : `${platform.os}/${platform.arch}`;
}

/**
 * Parses one `os/arch[/variant]` and normalises it so that equal targets compare equal:
 * arm64/v8 → arm64, amd64/v1 → amd64, arm → arm/v7 (containerd's rules).
 */
export function parsePlatform(text: string, where = '--platform'): Platform {
  const parts = text.trim().toLowerCase().split('/');
  if (parts.length < 2 || parts.length > 3 || parts.some((part) => part === '')) {
    throw new GociError(
      'BAD_PLATFORM',
      `${where}: "${text}" is not a platform; write it as os/arch or os/arch/variant`,
      {
        hint: 'for example linux/amd64, linux/arm64 or linux/arm/v7',
      },
    );
  }
  const [os, rawArch, rawVariant] = parts as [string, string, string | undefined];
  const alias = ARCH_ALIASES[rawArch];
  const arch = alias?.arch ?? rawArch;
  const variant = rawVariant ?? alias?.variant;
  if (variant !== undefined) checkVariant(text, where, arch, variant);
  return normalise({ os, arch, ...(variant ? { variant } : {}) });
}

function checkVariant(text: string, where: string, arch: string, variant: string): void {
  const allowed = VARIANTS[arch];
  if (!allowed) {
    throw new GociError('BAD_PLATFORM', `${where}: "${text}" has a variant, but ${arch} has none`, {
      hint: `write it as ${text.split('/').slice(0, 2).join('/')}`,
    });
  }
  if (!allowed.includes(variant)) {
    throw new GociError(
      'BAD_PLATFORM',
      `${where}: "${text}" has an unknown ${arch} variant "${variant}"; use one of ${allowed.join(', ')}`,
    );
  }
}

function normalise(platform: Platform): Platform {
  const { os, arch, variant } = platform;
  if (arch === 'arm64' && variant === 'v8') return { os, arch };
  if (arch === 'amd64' && variant === 'v1') return { os, arch };
  if (arch === 'arm' && variant === undefined) return { os, arch, variant: 'v7' };
  return platform;
}

/**
 * Parses a platform list (comma-separated text or already split) against what the toolchain
 * can build. `all` means Go's first-class ports: the ones every release is tested on.
 * `where` names each entry in errors, e.g. `builds[1].platforms` → `builds[1].platforms[0]`.
 */
export function resolvePlatforms(
  entries: readonly string[],
  ports: readonly GoPort[],
  where: string,
  indexed: boolean,
): Platform[] {
  const result: Platform[] = [];
  entries.forEach((entry, index) => {
    const location = indexed ? `${where}[${index}]` : where;
    for (const text of entry
      .split(',')
      .map((part) => part.trim())
      .filter(Boolean)) {
      const platforms = text === 'all' ? firstClassPlatforms(ports) : [parsePlatform(text, location)];
      for (const platform of platforms) {
        checkSupported(platform, text, ports, location);
        if (!result.some((known) => formatPlatform(known) === formatPlatform(platform))) result.push(platform);
      }
    }
  });
  if (result.length === 0) {
    throw new GociError('BAD_PLATFORM', `${where}: no platform given`, {
      hint: 'name at least one, for example linux/amd64',
    });
  }
  return result;
}

function firstClassPlatforms(ports: readonly GoPort[]): Platform[] {
  return ports.filter((port) => port.firstClass).map((port) => normalise({ os: port.os, arch: port.arch }));
}

function checkSupported(platform: Platform, text: string, ports: readonly GoPort[], where: string): void {
  if (ports.some((port) => port.os === platform.os && port.arch === platform.arch)) return;
  throw new GociError(
    'BAD_PLATFORM',
    `${where}: "${text}" is not a platform this Go toolchain can build (see: go tool dist list)`,
  );
}

/** GOOS/GOARCH plus the sub-architecture level, always explicit so the host's own GOAMD64/GOARM never leaks in. */
export function goTargetEnv(platform: Platform): GoTargetEnv {
  const env: GoTargetEnv = { GOOS: platform.os, GOARCH: platform.arch };
  if (platform.arch === 'arm') env.GOARM = (platform.variant ?? 'v7').slice(1);
  if (platform.arch === 'amd64') env.GOAMD64 = platform.variant ?? 'v1';
  return env;
}

/** This machine's architecture in Go's words (GOARCH). */
export function hostGoarch(): string {
  const arches: Record<string, string> = {
    x64: 'amd64',
    arm64: 'arm64',
    arm: 'arm',
    ia32: '386',
    ppc64: 'ppc64le',
    s390x: 's390x',
    riscv64: 'riscv64',
    loong64: 'loong64',
  };
  return arches[process.arch] ?? process.arch;
}

/** The platform of this machine, as a Linux container would see it. */
export function hostLinuxPlatform(): Platform {
  return normalise({ os: 'linux', arch: hostGoarch() });
}
