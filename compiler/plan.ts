import { lstat, realpath, stat } from 'node:fs/promises';
import { delimiter, dirname, isAbsolute, join, resolve } from 'node:path';
import { displayPath } from '../common/display-path.js';
import { isInside } from '../common/inside.js';
import { GociError } from '../common/errors.js';
import { found } from '../common/found.js';
import { SPEC_FILE_NAME, fieldLocation, loadSpecFile, specForDirectory } from '../spec/load.js';
import { isPathLike } from './main-package.js';
import { expandPackagePatterns } from './package-patterns.js';
import { buildPackageDirs, buildsPackage, selectPackages, type PackageImages } from './package-selection.js';
import type { BuildSpec, Spec } from '../spec/schema.js';
import { goBuildCommand, type GoCommand } from './command.js';
import { buildContext, realPathInContext, type BuildContext } from './context.js';
import { readSourceState } from './git.js';
import type { Module } from './binary/types.js';
import { findModule, type ModuleFacts } from './module.js';
import { readVendorConf } from './vendor-conf.js';
import { binaryFileName } from './naming.js';
import { formatPlatform, hostLinuxPlatform, resolvePlatforms } from './platform.js';
import type { Platform } from '../oci/platform.js';
import { goEnv, readToolchain, type Toolchain } from './toolchain.js';
import { makeStamp, versionWarnings, type Stamp } from './version.js';
import { warnOnce } from '../common/warn.js';

/** What the user asked for, from flags; goci.yaml fills in the rest. */
export interface CompileRequest {
  /** Directories holding a main package or a goci.yaml; none means the current directory. */
  packages: string[];
  /** An explicit goci.yaml, instead of looking in each package directory. */
  config: string | undefined;
  /** `--platform` entries; they replace every build's own platforms. */
  platforms: string[] | undefined;
  version: string | undefined;
  buildvcs: string | undefined;
  env: NodeJS.ProcessEnv;
  /** `--context`: the directory goci.yaml's paths may reach; default the goci.yaml's (or package's) directory. */
  context?: string | undefined;
  /**
   * Set by `goci build`, which makes Linux images: any other platform is refused before anything
   * compiles rather than compiled and left out of the image.
   */
  linuxOnly?: boolean;
  /** Set by the image commands: what each package named must be to an image (see PackageImages). */
  packageImages?: PackageImages;
}

/** One binary to build. */
export interface Target {
  buildId: string;
  binary: string;
  platform: Platform;
  /** File name under dist/bin. */
  fileName: string;
  command: GoCommand;
  /** The directory of the go.mod the build belongs to; undefined in GOPATH mode. */
  moduleRoot: string | undefined;
  /** GOPATH mode: what vendor.conf pins (Go records no dependencies then); undefined otherwise. */
  vendored?: Module[];
  stamp: Stamp;
  /** Absolute paths that must not appear inside the binary (the -trimpath promise). */
  sourcePaths: string[];
  /** The spec file and build the target came from, for messages. */
  where: string;
  /** The spec it came from: the image stage reads its image settings and base directory. */
  spec: Spec;
  /** The build context of the spec: image.files must stay inside it. */
  context: BuildContext;
}

export interface Plan {
  toolchain: Toolchain;
  targets: Target[];
}

/**
 * What a build of each package would be stamped with, without planning it (goci build-args):
 * the spec's version format applied to what git says, or to --version.
 */
export async function stampsOf(request: CompileRequest): Promise<{ spec: Spec; stamp: Stamp }[]> {
  const specs = await loadSpecs(request);
  return Promise.all(specs.map(async (spec) => ({ spec, stamp: await specStamp(spec, request) })));
}

/** What a spec's builds are stamped with, from git (or --version), saying once what git could not tell. */
async function specStamp(spec: Spec, request: CompileRequest): Promise<Stamp> {
  const state = await readSourceState(spec.baseDir);
  const stamp = makeStamp(state, request.env, request.version, '--version', spec.version.format);
  for (const line of versionWarnings(state, stamp.version, request.version !== undefined)) warnOnce(line);
  return stamp;
}

export async function makePlan(request: CompileRequest): Promise<Plan> {
  const [toolchain, specs] = await Promise.all([readToolchain(request.env), loadSpecs(request)]);
  const targets: Target[] = [];
  for (const spec of specs) targets.push(...(await planSpec(spec, request, toolchain)));
  rejectCollisions(targets);
  return { toolchain, targets };
}

async function loadSpecs(request: CompileRequest): Promise<Spec[]> {
  // --config FILE with package directories builds those packages of FILE.
  const config = request.config === undefined ? undefined : await loadSpecFile(resolve(request.config));
  const taker = patternTaker(config, request.packageImages);
  const packages = await expandPackagePatterns(request.packages, taker, request.config ?? SPEC_FILE_NAME);
  const dirs = await Promise.all(packages.map(existingDirectory));
  if (config !== undefined)
    return [dirs.length > 0 ? await selectPackages(config, dirs, request.packageImages) : config];
  if (dirs.length === 0) dirs.push(resolve('.'));
  // Each goci.yaml once: the packages found to share it are selected from it together.
  const bySpec = new Map<string, string[]>();
  for (const dir of dirs) {
    const specDir = await specDirectoryFor(dir);
    bySpec.set(specDir, [...(bySpec.get(specDir) ?? []), dir]);
  }
  return Promise.all(
    [...bySpec].map(async ([specDir, packages]) => {
      const spec = await specForDirectory(specDir);
      // A goci.yaml in the package's own directory is built whole, as it always was, except where
      // each package must name one image.
      const whole = packages.includes(specDir) && request.packageImages !== 'one';
      return whole ? spec : selectPackages(spec, packages, request.packageImages);
    }),
  );
}

/**
 * Whether a package that a pattern found is one goci would build if it were named (see
 * expandPackagePatterns), each goci.yaml read and its builds' packages found once per run.
 */
function patternTaker(config: Spec | undefined, images: PackageImages | undefined): (dir: string) => Promise<boolean> {
  type Governing = { spec: Spec; mains: (string | undefined)[] };
  const read = async (spec: Spec): Promise<Governing> => ({ spec, mains: await buildPackageDirs(spec) });
  let configured: Promise<Governing> | undefined;
  const bySpecDir = new Map<string, Promise<Governing>>();
  return async (dir) => {
    if (config !== undefined) configured ??= read(config);
    let governing = configured;
    if (!governing) {
      const specDir = await specDirectoryFor(dir);
      // Its own goci.yaml, or none above it: built whole, or alone with the defaults.
      if (specDir === dir) return true;
      governing = bySpecDir.get(specDir) ?? specForDirectory(specDir).then(read);
      bySpecDir.set(specDir, governing);
    }
    const { spec, mains } = await governing;
    return buildsPackage(spec, mains, dir, images);
  };
}

/**
 * Where the goci.yaml for a package directory is: the directory's own, else the nearest one above
 * it within its Go module (up to the go.mod's directory); the directory itself when there is none.
 */
async function specDirectoryFor(dir: string): Promise<string> {
  const { root } = await findModule(dir);
  if (root === undefined || !isInside(dir, root)) return dir;
  for (let current = dir; ; current = dirname(current)) {
    if (await lstat(join(current, SPEC_FILE_NAME)).catch(() => undefined)) return current;
    if (current === root || dirname(current) === current) return dir;
  }
}

async function existingDirectory(dir: string): Promise<string> {
  const info = await stat(dir).catch(() => undefined);
  if (!info?.isDirectory()) {
    throw new GociError('NOT_FOUND', `${dir}: no such directory`, {
      hint: 'give the directory of a Go main package (one that has package main)',
    });
  }
  return resolve(dir);
}

async function planSpec(spec: Spec, request: CompileRequest, toolchain: Toolchain): Promise<Target[]> {
  const context = await buildContext(spec.baseDir, request.context);
  const stamp = await specStamp(spec, request);
  const places = new Map<string, BuildPlace>();
  for (const build of spec.builds) {
    const cwd = await buildDirectory(spec, build, context);
    const module = await findModule(cwd);
    const vendored =
      module.mode === 'gopath'
        ? await gopathVendored(cwd, context, request.env, fieldLocation(spec, build.path))
        : undefined;
    places.set(build.id, { cwd, module, vendored });
  }
  return specTargets(spec, {
    stamp,
    context,
    placeOf: (build) => found(places.get(build.id), `where build ${build.id} runs`),
    platformsOf: (build) => platformsFor(spec, build, request, toolchain),
    buildvcs: () => request.buildvcs,
    env: request.env,
  });
}

/** Where one build's `go build` runs and the module it belongs to, as the door that runs it found them. */
export interface BuildPlace {
  cwd: string;
  module: ModuleFacts;
  vendored?: Module[] | undefined;
}

/** What a door knows about a spec before its targets can be listed: the same list follows in both doors. */
export interface SpecFacts {
  stamp: Stamp;
  context: BuildContext;
  placeOf: (build: BuildSpec) => BuildPlace;
  platformsOf: (build: BuildSpec) => Platform[];
  /** `-buildvcs` for a build (a flag overrides the spec's; the frontend has no .git). */
  buildvcs: (build: BuildSpec) => string | undefined;
  env: NodeJS.ProcessEnv;
}

/**
 * Every (build, platform) of a spec as a Target with its go build command. Plain data from
 * facts: the CLI finds them on this machine, the frontend inside BuildKit.
 */
export function specTargets(spec: Spec, facts: SpecFacts): Target[] {
  const { stamp, context } = facts;
  const targets: Target[] = [];
  for (const build of spec.builds) {
    const place = facts.placeOf(build);
    const { cwd, module } = place;
    for (const platform of facts.platformsOf(build)) {
      const where = fieldLocation(spec, build.path);
      targets.push({
        buildId: build.id,
        binary: build.binary,
        platform,
        fileName: binaryFileName(build.binary, stamp.version, platform),
        command: goBuildCommand({
          build,
          where,
          platform,
          stamp,
          versionSettings: spec.version,
          cwd,
          moduleMode: module.mode,
          buildvcs: facts.buildvcs(build),
          processEnv: facts.env,
        }),
        moduleRoot: module.root,
        ...(place.vendored ? { vendored: place.vendored } : {}),
        stamp,
        sourcePaths: [...new Set([cwd, module.root ?? cwd, spec.baseDir])],
        where,
        spec,
        context,
      });
    }
  }
  return targets;
}

/**
 * Where go build runs: builds[].dir, inside the context after resolving symlinks; and main,
 * when it is a path (`./cmd/api`), inside it too. An import path is resolved by go through the
 * module's own requirements; an absolute one would read any directory and is refused.
 */
async function buildDirectory(spec: Spec, build: BuildSpec, context: BuildContext): Promise<string> {
  const field = (name: string): string => fieldLocation(spec, `${build.path}.${name}`);
  const dir = await realPathInContext(resolve(spec.baseDir, build.dir), context, field('dir'), build.dir);
  const cwd = await existingDirectory(dir);
  if (isAbsolute(build.main)) {
    const problem = 'is an absolute path; write the main package relative to dir (./cmd/api)';
    throw new GociError('BAD_SPEC', `${field('main')}: "${build.main}" ${problem}`);
  }
  if (isPathLike(build.main)) {
    await realPathInContext(resolve(cwd, build.main), context, field('main'), build.main);
  }
  return resolve(spec.baseDir, build.dir);
}

function platformsFor(spec: Spec, build: BuildSpec, request: CompileRequest, toolchain: Toolchain): Platform[] {
  const fromFlag = request.platforms !== undefined;
  const where = fromFlag ? '--platform' : fieldLocation(spec, `${build.path}.platforms`);
  const platforms = fromFlag
    ? resolvePlatforms(request.platforms!, toolchain.ports, where, false)
    : build.platforms !== undefined
      ? resolvePlatforms(build.platforms, toolchain.ports, where, true)
      : [hostLinuxPlatform()];
  const others = platforms.filter((platform) => platform.os !== 'linux');
  if (request.linuxOnly && others.length > 0) {
    const names = others.map(formatPlatform).join(', ');
    throw new GociError('BAD_PLATFORM', `${where}: goci build makes Linux images and cannot put ${names} in one`, {
      hint: 'build binaries for other systems with goci compile or goci release',
    });
  }
  return platforms;
}

/** Two targets writing the same file would overwrite each other; say so before building. */
function rejectCollisions(targets: Target[]): void {
  const seen = new Map<string, Target>();
  for (const target of targets) {
    const earlier = seen.get(target.fileName);
    if (earlier) {
      throw new GociError(
        'BAD_ARGUMENT',
        `${target.where} and ${earlier.where} both produce ${target.fileName} (${formatPlatform(target.platform)})`,
        {
          hint: 'give each build its own binary name',
        },
      );
    }
    seen.set(target.fileName, target);
  }
}

/**
 * A build without a go.mod is GOPATH mode: its source must be below $GOPATH/src, where its import
 * path comes from (elsewhere go names it after the directory, and the path stays in the binary).
 * Its dependencies are what the project's vendor.conf pins, if it has one.
 */
async function gopathVendored(
  cwd: string,
  context: BuildContext,
  env: NodeJS.ProcessEnv,
  where: string,
): Promise<Module[] | undefined> {
  // As go reads it: the environment, else go env -w's file, else $HOME/go.
  const roots = (await goEnv('GOPATH', env)).split(delimiter).filter(Boolean);
  const src = roots.map((root) => join(resolve(root), 'src')).find((dir) => isInside(cwd, dir));
  if (src === undefined) {
    const problem = `no go.mod, and ${displayPath(cwd)} is not below $GOPATH/src (${roots.map((root) => join(root, 'src')).join(', ')})`;
    throw new GociError('BAD_SPEC', `${where}: ${problem}`, {
      hint: 'add a go.mod (go mod init), or build it where GOPATH mode finds it: $GOPATH/src/<its import path>',
    });
  }
  // vendor.conf is looked for from where go build runs up to the build context, never beyond it.
  const vendored = await readVendorConf(await realpath(cwd), context.dir);
  warnOnce(gopathWarning(where, vendored !== undefined));
  return vendored;
}

/**
 * What a build without a go.mod cannot say: Go stamps no module and no dependency versions into
 * a GOPATH-mode binary, so the SBOM lists none and no module label is written.
 */
function gopathWarning(where: string, vendorConf: boolean): string {
  const sbom = vendorConf ? 'its SBOM lists what vendor.conf pins' : 'its SBOM lists none';
  return (
    `${where}: no go.mod, so GOPATH mode (GO111MODULE=off): the binary records no module or dependency versions, ` +
    `so ${sbom}; add a go.mod (go mod init) to have them`
  );
}
