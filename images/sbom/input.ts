/**
 * What goci's SBOM writers (spdx.ts, cyclonedx.ts) describe, and the one place that turns a
 * binary's Go build info into the list of modules both formats report. Pure: no clock, no
 * randomness, no file system; the same input always gives the same description.
 *
 * How build info becomes packages (both formats):
 *
 * - The main module is the application. Go records `(devel)` as its version unless the
 *   toolchain stamped one; that text is kept as the version and left out of the purl. When
 *   the main package is below the module root (`example.com/app/cmd/app`), the purl carries
 *   the package directory as its subpath (`pkg:golang/example.com/app#cmd/app`).
 * - A dependency without a replacement is reported as Go recorded it: path, version, h1 sum.
 * - A dependency replaced by another module version (`replace A v1 => B v2`) is reported as
 *   the replacement, B v2 with B's sum, because that is the code in the binary and what a
 *   vulnerability scanner must look up. The requirement it stands in for (A v1) is kept as a
 *   `goci:replaces` note.
 * - A dependency replaced by a directory (`replace A => ./a`) keeps its module path A, the
 *   import path its code is known by, but its version is `(devel)` as Go records for the
 *   replacement: the code came from a directory, so the version in go.mod (often a
 *   placeholder like v0.0.0) says nothing about it, and a purl claiming A@v0.0.0 would send
 *   scanners to code that is not in the binary. The directory and the required version are
 *   kept as `goci:directory` and `goci:replaces` notes.
 * - The Go standard library is a package of its own, `stdlib`, versioned as the toolchain
 *   without its `go` prefix (`go1.19.8` gives `1.19.8`, purl `pkg:golang/stdlib@1.19.8`).
 */

import { GociError } from '../../common/errors.js';
import type { BinaryReport, GoBuildInfo, Module } from '../../compiler/binary/types.js';
import { rfc3339 } from '../../oci/image-config.js';
import { goRelease } from '../../compiler/go-release.js';
import { GO_NO_VERSION, golangPurl } from './purl.js';

export interface SbomPlatform {
  os: string;
  architecture: string;
  variant?: string;
}

export interface SbomInput {
  /** What the SBOM is about, as people call it: an image reference or the binary's name. */
  name: string;
  binary: BinaryReport;
  /** SHA-256 of the binary's bytes: 64 hex digits, with or without a `sha256:` prefix. */
  binarySha256: string;
  /** The platform the binary was built for, OCI spelling. Must agree with the binary. */
  platform: SbomPlatform;
  /** Seconds since 1970 (SOURCE_DATE_EPOCH): the creation time both formats record. */
  epoch: number;
  /** goci's own version, recorded as the creating tool. */
  gociVersion: string;
  /**
   * A GOPATH-mode binary's dependencies as its vendor.conf pins them: Go records none in such a
   * binary, so they are listed from there, each noted as such.
   */
  vendored?: Module[] | undefined;
}

export type SbomPackageKind = 'main' | 'module' | 'stdlib';

/** A fact with no field of its own in SPDX or CycloneDX: a CycloneDX property, an SPDX annotation. */
export interface SbomNote {
  name: string;
  value: string;
}

/** One module compiled into the binary, as both formats report it. */
export interface SbomPackage {
  kind: SbomPackageKind;
  /** Module path (`stdlib` for the standard library), exactly as Go spells it. */
  path: string;
  /** As Go recorded it; `(devel)` when there is none. */
  version: string;
  purl: string;
  /** The go.sum hash (`h1:…`) of the module's contents, when Go recorded one. */
  sum?: string;
  /** The go.mod requirement this package stands in for, when a replace directive applies. */
  replaces?: { path: string; version: string };
  /** The directory a replace directive pointed at, as written in go.mod. */
  directory?: string;
  /** Extra facts, in a fixed order. */
  notes: SbomNote[];
}

/** Everything the writers need, checked and normalised. */
export interface SbomSubject {
  name: string;
  /** 64 lowercase hex digits. */
  binarySha256: string;
  platform: SbomPlatform;
  /** `linux/arm/v7`. */
  platformText: string;
  /** RFC 3339 UTC, whole seconds. */
  created: string;
  gociVersion: string;
  /** `goci-0.1.0`. */
  tool: string;
  main: SbomPackage;
  /** Dependencies, sorted by path then version (code-unit order, not locale order). */
  modules: SbomPackage[];
  stdlib: SbomPackage;
}

const HINT_NO_BUILD_INFO =
  'goci reads module versions from the build info the go command embeds in binaries it builds in module mode; ' +
  'build the program with `go build` from a directory with a go.mod file.';

/** Largest epoch whose year still has four digits, as both formats' date syntax requires. */
const LAST_EPOCH = 253402300799;

/** Checks the input and works out the packages; throws GociError for anything the writers cannot describe. */
export function describeSbomSubject(input: SbomInput): SbomSubject {
  const name = checkName(input.name);
  const binarySha256 = checkSha256(input.binarySha256);
  const platform = checkPlatform(input.platform, input.binary);
  const created = checkEpoch(input.epoch);
  const gociVersion = checkGociVersion(input.gociVersion);
  const buildInfo = input.binary.buildInfo;
  if (buildInfo === undefined) {
    throw new GociError('BAD_BINARY', `${name} has no Go build info, so goci cannot describe its modules`, {
      hint: HINT_NO_BUILD_INFO,
    });
  }
  checkModulePaths(name, buildInfo);
  const fromVendorConf = buildInfo.deps.length === 0 && buildInfo.main === undefined ? (input.vendored ?? []) : [];
  const modules = [...buildInfo.deps.map(dependencyPackage), ...fromVendorConf.map(vendoredPackage)].sort(
    comparePackages,
  );
  return {
    name,
    binarySha256,
    platform,
    platformText: [platform.os, platform.architecture, platform.variant].filter(Boolean).join('/'),
    created,
    gociVersion,
    tool: `goci-${gociVersion}`,
    main: mainPackage(buildInfo),
    modules,
    stdlib: stdlibPackage(buildInfo.goVersion),
  };
}

/** The main module, then the dependencies, then the standard library: the order both formats list them in. */
export function allPackages(subject: SbomSubject): SbomPackage[] {
  return [subject.main, ...subject.modules, subject.stdlib];
}

function mainPackage(buildInfo: GoBuildInfo): SbomPackage {
  // `go build file.go` records no main module, only the package path `command-line-arguments`.
  const module: Module = buildInfo.main ?? { path: buildInfo.path, version: GO_NO_VERSION };
  const subpath = buildInfo.path.startsWith(`${module.path}/`)
    ? buildInfo.path.slice(module.path.length + 1)
    : undefined;
  const notes: SbomNote[] = [{ name: 'goci:main-package', value: buildInfo.path }];
  return {
    kind: 'main',
    path: module.path,
    version: versionOrDevel(module.version),
    purl: golangPurl(module.path, module.version, subpath),
    ...(module.sum ? { sum: module.sum } : {}),
    notes: withSum(notes, module.sum),
  };
}

function dependencyPackage(dep: Module): SbomPackage {
  const replacement = dep.replace;
  if (replacement === undefined) {
    return {
      kind: 'module',
      path: dep.path,
      version: versionOrDevel(dep.version),
      purl: golangPurl(dep.path, dep.version),
      ...sumField(dep.sum),
      notes: withSum([], dep.sum),
    };
  }
  const replaces = { path: dep.path, version: versionOrDevel(dep.version) };
  const replacesNote = { name: 'goci:replaces', value: `${replaces.path}@${replaces.version}` };
  if (isDirectoryPath(replacement.path)) {
    return {
      kind: 'module',
      path: dep.path,
      version: GO_NO_VERSION,
      purl: golangPurl(dep.path),
      replaces,
      directory: replacement.path,
      notes: [replacesNote, { name: 'goci:directory', value: replacement.path }],
    };
  }
  return {
    kind: 'module',
    path: replacement.path,
    version: versionOrDevel(replacement.version),
    purl: golangPurl(replacement.path, replacement.version),
    ...sumField(replacement.sum),
    replaces,
    notes: withSum([replacesNote], replacement.sum),
  };
}

/** A package vendor.conf pins (its version may be a commit): not read from the binary, and noted so. */
function vendoredPackage(pinned: Module): SbomPackage {
  return {
    kind: 'module',
    path: pinned.path,
    version: pinned.version,
    purl: golangPurl(pinned.path, pinned.version),
    notes: [{ name: 'goci:source', value: 'vendor.conf' }],
  };
}

function stdlibPackage(goVersion: string): SbomPackage {
  // go1.19.8, go1.21rc2, and "go1.22.0 X:boringcrypto" for toolchains built with experiments.
  const release = goRelease(goVersion);
  return {
    kind: 'stdlib',
    path: 'stdlib',
    version: release ?? goVersion,
    purl: golangPurl('stdlib', release),
    notes: [{ name: 'goci:go-version', value: goVersion }],
  };
}

function versionOrDevel(version: string): string {
  return version === '' ? GO_NO_VERSION : version;
}

function sumField(sum: string | undefined): { sum?: string } {
  return sum ? { sum } : {};
}

function withSum(notes: SbomNote[], sum: string | undefined): SbomNote[] {
  return sum ? [...notes, { name: 'goci:go.sum', value: sum }] : notes;
}

/** As the go command decides (modfile.IsDirectoryPath): relative or absolute, Unix or Windows. */
function isDirectoryPath(path: string): boolean {
  return (
    path === '.' ||
    path === '..' ||
    /^\.\.?[\\/]/.test(path) ||
    path.startsWith('/') ||
    path.startsWith('\\') ||
    /^[A-Za-z]:[\\/]/.test(path)
  );
}

function comparePackages(left: SbomPackage, right: SbomPackage): number {
  return compareText(left.path, right.path) || compareText(left.version, right.version);
}

function compareText(left: string, right: string): number {
  return left < right ? -1 : left > right ? 1 : 0;
}

// ---------------------------------------------------------------------------------------------
// Checks. A wrong value here is a bug in the caller, but a GociError still says exactly what.
// ---------------------------------------------------------------------------------------------

const HINT_CALLER = 'This is a bug in goci; please report it with the command you ran.';

function checkName(name: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: a subject name with control characters is what this refuses
  if (typeof name !== 'string' || name.trim() === '' || /[\u0000-\u001f\u007f]/.test(name) || !encodable(name)) {
    throw new GociError(
      'BAD_ARGUMENT',
      `the SBOM subject name ${JSON.stringify(name)} is empty or has control characters`,
      { hint: HINT_CALLER },
    );
  }
  return name;
}

/** False for text with unpaired UTF-16 surrogates, which no URI (and no UTF-8) can hold. */
function encodable(text: string): boolean {
  try {
    encodeURIComponent(text);
    return true;
  } catch {
    return false;
  }
}

/** Every module path Go recorded must be one a purl can name: non-empty segments between slashes. */
function checkModulePaths(name: string, buildInfo: GoBuildInfo): void {
  const paths = [buildInfo.main?.path ?? buildInfo.path];
  for (const dep of buildInfo.deps) {
    paths.push(dep.path);
    if (dep.replace !== undefined && !isDirectoryPath(dep.replace.path)) paths.push(dep.replace.path);
  }
  const bad = paths.find((path) => path === '' || path.split('/').some((segment) => segment === ''));
  if (bad !== undefined) {
    throw new GociError(
      'BAD_BINARY',
      `the Go build info of ${name} names a module ${JSON.stringify(bad)}, which is not a module path`,
      {
        hint: 'The build info looks damaged; rebuild the program with the go command.',
      },
    );
  }
}

function checkSha256(value: string): string {
  const hex = typeof value === 'string' ? value.replace(/^sha256:/, '') : '';
  if (!/^[0-9a-fA-F]{64}$/.test(hex)) {
    throw new GociError('BAD_ARGUMENT', `${JSON.stringify(value)} is not a SHA-256 digest (64 hex digits)`, {
      hint: HINT_CALLER,
    });
  }
  return hex.toLowerCase();
}

function checkPlatform(platform: SbomPlatform, binary: BinaryReport): SbomPlatform {
  const text = [platform?.os, platform?.architecture, platform?.variant].filter(Boolean).join('/');
  if (!platform?.os || !platform.architecture) {
    throw new GociError('BAD_PLATFORM', `the SBOM platform ${JSON.stringify(text)} needs an os and an architecture`, {
      hint: HINT_CALLER,
    });
  }
  if (platform.os !== binary.os || platform.architecture !== binary.arch) {
    throw new GociError(
      'BAD_PLATFORM',
      `the SBOM platform ${text} does not match the binary, which is built for ${binary.os}/${binary.arch}`,
      {
        hint: 'Describe the binary with the platform it was built for (GOOS/GOARCH).',
      },
    );
  }
  return platform.variant
    ? { os: platform.os, architecture: platform.architecture, variant: platform.variant }
    : { os: platform.os, architecture: platform.architecture };
}

function checkEpoch(epoch: number): string {
  if (!Number.isSafeInteger(epoch) || epoch < 0 || epoch > LAST_EPOCH) {
    throw new GociError(
      'BAD_ARGUMENT',
      `the SBOM creation time ${String(epoch)} is not whole seconds between 1970 and 9999`,
      { hint: HINT_CALLER },
    );
  }
  return rfc3339(epoch);
}

function checkGociVersion(version: string): string {
  if (typeof version !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9.+_-]*$/.test(version)) {
    throw new GociError('BAD_ARGUMENT', `goci version ${JSON.stringify(version)} cannot name the tool in an SBOM`, {
      hint: HINT_CALLER,
    });
  }
  return version;
}

/**
 * `<name>/<sha256>` as URI path segments: the part of the SPDX namespace and of the CycloneDX
 * serial number's UUID name that identifies the subject. Each `/`-separated part of the name
 * becomes one percent-encoded segment; empty parts are dropped and `.`/`..` are encoded so that
 * URI normalisation cannot fold them away.
 */
export function subjectUriPath(subject: SbomSubject): string {
  const segments = subject.name
    .split('/')
    .filter((segment) => segment !== '')
    .map((segment) =>
      segment === '.' || segment === '..' ? segment.replaceAll('.', '%2E') : encodeURIComponent(segment),
    );
  return [...segments, subject.binarySha256].join('/');
}
