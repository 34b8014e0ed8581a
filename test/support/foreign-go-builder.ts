import { lstat, mkdir, mkdtemp, readFile, readdir, readlink, rename, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join, posix, relative } from 'node:path';
import { execa } from 'execa';
import { gociCacheDir } from '../../common/cache-dir.js';
import { GociError } from '../../common/errors.js';
import { inspectBinary } from '../../compiler/binary/inspect.js';
import type { Platform } from '../../oci/platform.js';
import {
  DEFAULT_GO_SHARE,
  DEFAULT_GOROOT,
  GO_BUILD_TOOLS,
  builderSystemEntries,
  keepInToolchain,
  type GoBuilderImage,
} from '../../images/go-builder-image.js';
import { assembleHostImage, hostFileEntries, mergeEntries, type HostEntryKind } from '../../images/host-files.js';
import { normaliseLayerPath, type LayerEntry } from '../../images/layer.js';

/**
 * A Go builder image FOR another architecture (linux/arm64 or linux/arm/v7), made from
 * Debian's foreign-architecture packages of the toolchain this machine has: the same image as
 * goBuilderImage (go-builder-image.ts) makes for amd64, but its `go` binary, tools, loader, libc
 * and shell are arm64 or armhf ones, so it runs only under emulation (qemu-user + binfmt_misc)
 * on this machine. It is the baseline image of a naive multi-stage Dockerfile that compiles
 * Go in an emulated build stage (`FROM image AS build` without `--platform=$BUILDPLATFORM`).
 *
 * The files come from .debs fetched with `apt-get download` (golang-1.19-go:<arch>,
 * libc6:<arch>, dash:<arch>) and unpacked with `dpkg-deb -x`; the sources (/usr/share/go-1.19)
 * are architecture-independent and come from this machine, or from golang-1.19-src when this
 * machine has none, except for a few generated files that golang-1.19-go:<arch> ships itself
 * (internal/buildcfg/zbootstrap.go, go/build/zcgo.go, runtime/internal/sys/zversion.go,
 * pkg/include): those come from the foreign package, so the tree is what an arm64 or armhf
 * Debian system has in /usr/share/go-1.19.
 */
export type ForeignGoArch = 'arm64' | 'arm';

export interface ForeignGoBuilderOptions {
  /** Go's name of the target: arm64 → linux/arm64 (Debian arm64), arm → linux/arm/v7 (Debian armhf). */
  arch: ForeignGoArch;
  /** Adds /bin/sh (the foreign dash) for Dockerfile RUN lines in shell form. */
  withShell: boolean;
  /** The OCI layout to write the image into (created if missing; other tags are kept). */
  layoutDir: string;
  /** Where the .debs are kept between runs. Default <goci cache>/debs (common/cache-dir.ts). */
  cacheDir?: string;
  /**
   * The architecture-independent sources (GOROOT/src and pkg/include link into them). Default
   * /usr/share/go-1.19 when this machine has it (the foreign toolchain is then pinned to the
   * version of its golang-1.19-src package), else the golang-1.19-src .deb of the toolchain's
   * version; null always takes the .deb.
   */
  share?: string | null;
  /** Unix seconds of every timestamp. Default 0. */
  epoch?: number;
  /** Where the .debs are unpacked (a fresh directory below it, removed afterwards). Default the OS temp dir. */
  scratchDir?: string;
}

export interface ForeignGoBuilderImage extends GoBuilderImage {
  /** Debian's name of the architecture: arm64 or armhf. */
  debianArch: DebianArch;
  /** The .deb files the image was made from, in the cache directory. */
  debs: string[];
}

type DebianArch = 'arm64' | 'armhf';

interface ForeignTarget {
  debianArch: DebianArch;
  platform: Platform;
  /** GOOS_GOARCH, the tool directory in GOROOT/pkg/tool. */
  toolDir: string;
  /** The multiarch triplet: where Debian puts the architecture's libraries. */
  triplet: string;
  /** Config.Env after the amd64 builder's. */
  extraEnv: readonly string[];
}

const TARGETS: Record<ForeignGoArch, ForeignTarget> = {
  arm64: {
    debianArch: 'arm64',
    platform: { os: 'linux', arch: 'arm64' },
    toolDir: 'linux_arm64',
    triplet: 'aarch64-linux-gnu',
    extraEnv: [],
  },
  arm: {
    debianArch: 'armhf',
    platform: { os: 'linux', arch: 'arm', variant: 'v7' },
    toolDir: 'linux_arm',
    triplet: 'arm-linux-gnueabihf',
    extraEnv: ['GOARM=7'],
  },
};

const GO_PACKAGE = 'golang-1.19-go';
const SRC_PACKAGE = 'golang-1.19-src';
const LIBC_PACKAGE = 'libc6';
const SHELL_PACKAGE = 'dash';

/** The default place of the .debs. */
export function defaultDebCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(gociCacheDir(env), 'debs');
}

/**
 * Builds the image into `options.layoutDir` (untagged; tag it with tagInLayout, or write a
 * tarball from the result) for linux/arm64 or linux/arm/v7, in the amd64 builder's two layers:
 * 1. the toolchain: the foreign GOROOT (/usr/lib/go-1.19 of golang-1.19-go:<arch>) and the share
 *    tree (the sources, with the architecture's generated files from golang-1.19-go:<arch> over
 *    them), filtered by keepInToolchain with the foreign tool directory (pkg/tool/linux_arm64 or
 *    linux_arm), symlinks kept;
 * 2. the system: the foreign loader at the path the `go` binary's PT_INTERP names and each
 *    library its DT_NEEDED names (transitively) at /lib/<triplet>/<soname>, all from
 *    libc6:<arch> with symlinks resolved inside the package, /etc/passwd, /etc/group, /root
 *    (0700), /tmp (1777), /src, and with `withShell` the foreign dash at /bin/sh.
 * Config as the amd64 builder's: Env PATH=/usr/lib/go-1.19/bin:/usr/local/bin:/usr/bin:/bin,
 * GOROOT, GOCACHE=/root/.cache/go-build, CGO_ENABLED=0, and for arm GOARM=7 (Debian's armhf
 * go command defaults to GOARM=6; the image is linux/arm/v7, as golang:1.19's arm32v7 image,
 * whose toolchain defaults to 7); WorkingDir /src.
 *
 * The .debs are downloaded only when the cache lacks them. `apt-get download` needs the
 * architecture in dpkg's list and its package lists: when it fails, this adds the architecture
 * (`dpkg --add-architecture`, if missing) and runs `apt-get update`, once, then tries again
 * (both need root). Deterministic for given .debs and share tree.
 */
export async function foreignGoBuilderImage(options: ForeignGoBuilderOptions): Promise<ForeignGoBuilderImage> {
  const target = TARGETS[options.arch];
  if (target === undefined)
    throw new GociError('BAD_ARGUMENT', `no foreign Go builder for arch "${String(options.arch)}"; use arm64 or arm`);
  const cacheDir = options.cacheDir ?? defaultDebCacheDir();
  const hostShare = options.share ?? DEFAULT_GO_SHARE;
  const shareOnHost = options.share !== null && (await isDirectory(hostShare));
  if (!shareOnHost && typeof options.share === 'string')
    throw new GociError('NOT_FOUND', `the Go sources ${options.share} are not a directory`);

  // Sources and compiler must be one release: pin the toolchain to this machine's sources.
  const pinned = shareOnHost && options.share === undefined ? await installedVersion(SRC_PACKAGE) : undefined;
  const wanted: DebRequest[] = [
    { name: GO_PACKAGE, arch: target.debianArch, ...(pinned ? { version: pinned } : {}) },
    { name: LIBC_PACKAGE, arch: target.debianArch },
    ...(options.withShell ? [{ name: SHELL_PACKAGE, arch: target.debianArch }] : []),
  ];
  const debs = await ensureDebs(wanted, cacheDir);
  if (!shareOnHost) {
    const version = await debField(debs[0]!, 'Version');
    debs.push(...(await ensureDebs([{ name: SRC_PACKAGE, arch: 'all', version }], cacheDir)));
  }

  await mkdir(options.scratchDir ?? tmpdir(), { recursive: true });
  const scratch = await mkdtemp(join(options.scratchDir ?? tmpdir(), 'goci-foreign-go-'));
  try {
    const roots = await Promise.all(
      debs.map(async (deb, position) => {
        const root = join(scratch, String(position));
        await run('dpkg-deb', ['-x', deb, root]);
        return root;
      }),
    );
    const [goRoot, libcRoot] = [roots[0]!, roots[1]!];
    const shellRoot = options.withShell ? roots[2]! : undefined;
    const shareSource = shareOnHost ? hostShare : join(roots.at(-1)!, DEFAULT_GO_SHARE);

    const goroot = join(goRoot, DEFAULT_GOROOT);
    const goBinary = join(goroot, 'bin', 'go');
    const report = await inspectBinary(goBinary);
    if (report.arch !== target.platform.arch)
      throw new GociError(
        'BAD_BINARY',
        `${basename(debs[0]!)} holds a ${report.arch} go command, not ${target.platform.arch}`,
      );
    const goVersion = report.buildInfo?.goVersion;
    if (goVersion === undefined)
      throw new GociError('BAD_BINARY', `${basename(debs[0]!)}'s go command carries no Go build info`);
    const version = (await readFile(join(goroot, 'VERSION'), 'utf8').catch(() => '')).split('\n')[0]?.trim();
    if (version && version !== goVersion)
      throw new GociError(
        'BAD_ARGUMENT',
        `${basename(debs[0]!)}: VERSION says ${version} but its go command is ${goVersion}`,
      );

    const treeFilter =
      (root: string) =>
      (path: string, kind: HostEntryKind): boolean =>
        !keepInToolchain(relative(root, path), kind, target.toolDir);
    // golang-1.19-go:<arch> also ships files of the share tree, generated for its architecture
    // (src/internal/buildcfg/zbootstrap.go: defaultGOARM, defaultGO_LDSO; go/build/zcgo.go;
    // pkg/include): they replace the sources' (or this machine's amd64) ones.
    const packageShare = join(goRoot, DEFAULT_GO_SHARE);
    const ownShare = (await isDirectory(packageShare))
      ? await hostFileEntries([{ source: packageShare, at: DEFAULT_GO_SHARE }], { exclude: treeFilter(packageShare) })
      : [];
    const toolchain = mergeEntries(
      await hostFileEntries([{ source: goroot, at: DEFAULT_GOROOT }], { exclude: treeFilter(goroot) }),
      overlayEntries(
        await hostFileEntries([{ source: shareSource, at: DEFAULT_GO_SHARE }], { exclude: treeFilter(shareSource) }),
        ownShare,
      ),
    );

    const goLibraries = await foreignClosure(goBinary, libcRoot, target);
    const shell = shellRoot === undefined ? undefined : await shellEntries(shellRoot, libcRoot, target);
    const system: LayerEntry[] = mergeEntries(
      goLibraries.entries,
      ...(shell ? [shell] : []),
      builderSystemEntries(options.withShell),
    );

    const env = [
      `PATH=${DEFAULT_GOROOT}/bin:/usr/local/bin:/usr/bin:/bin`,
      `GOROOT=${DEFAULT_GOROOT}`,
      'GOCACHE=/root/.cache/go-build',
      'CGO_ENABLED=0',
      ...target.extraEnv,
    ];
    const debNames = debs.map((deb) => basename(deb));
    const image = await assembleHostImage({
      layoutDir: options.layoutDir,
      platform: target.platform,
      epoch: options.epoch ?? 0,
      layers: [
        {
          entries: toolchain,
          createdBy: `goci go-builder: ${goVersion} ${target.debianArch} toolchain from ${debNames[0]} and ${shareOnHost ? hostShare : debNames.at(-1)} (bin, pkg/include, pkg/tool/${target.toolDir}: ${GO_BUILD_TOOLS.join(' ')}, src without cmd, testdata and tests)`,
        },
        {
          entries: system,
          createdBy: `goci go-builder: ${[goLibraries.dynamic ? `go's loader and libraries from ${debNames[1]}` : '', options.withShell ? `/bin/sh (dash) from ${debNames[2]}` : '', '/etc/passwd, /etc/group, /root, /tmp, /src'].filter(Boolean).join('; ')}`,
        },
      ],
      runtime: {
        env,
        workingDir: '/src',
        labels: { 'org.opencontainers.image.title': 'goci go builder', 'org.opencontainers.image.version': goVersion },
      },
    });
    return { ...image, goVersion, goDynamic: goLibraries.dynamic, env, debianArch: target.debianArch, debs };
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

/** `base` with every path `top` also has taken from `top` (a file over a file; anything else must agree, as mergeEntries checks). */
function overlayEntries(base: readonly LayerEntry[], top: readonly LayerEntry[]): LayerEntry[] {
  const replaced = new Set(top.filter((entry) => entry.type === 'file').map((entry) => normaliseLayerPath(entry.path)));
  return mergeEntries(
    base.filter((entry) => !(entry.type === 'file' && replaced.has(normaliseLayerPath(entry.path)))),
    [...top],
  );
}

// ---------------------------------------------------------------------------------------------
// Foreign executables and their libraries, found inside an unpacked package (never on this machine)

interface ForeignClosure {
  /** The loader and libraries (not the binary). */
  entries: LayerEntry[];
  dynamic: boolean;
}

/**
 * The loader at the binary's PT_INTERP path and every library its DT_NEEDED names, transitively,
 * looked up in libc6's tree as the foreign loader would look them up without an ld.so.cache
 * (Debian's built-in search path: /lib/<triplet>, /usr/lib/<triplet>, /lib, /usr/lib). Each is
 * a regular file holding the file its path resolves to inside the package (the package's own
 * symlinks, such as /lib/ld-linux-aarch64.so.1 → aarch64-linux-gnu/ld-linux-aarch64.so.1, are
 * followed within it). A library naming the loader's soname needs nothing: the loader is it.
 */
async function foreignClosure(binary: string, libcRoot: string, target: ForeignTarget): Promise<ForeignClosure> {
  const report = await inspectBinary(binary);
  if (report.format !== 'elf' || report.arch !== target.platform.arch) {
    throw new GociError(
      'BAD_BINARY',
      `${binary} is a ${report.format} ${report.arch} program, not a ${target.platform.arch} ELF one`,
    );
  }
  if (report.static) return { entries: [], dynamic: false };
  const entries: LayerEntry[] = [];
  const interpreter = report.interpreter;
  if (interpreter !== undefined) entries.push(await packageFile(libcRoot, interpreter, interpreter));
  const satisfied = new Set<string>(interpreter === undefined ? [] : [basename(interpreter)]);
  const queue = [...report.needed];
  const searchPath = [`/lib/${target.triplet}`, `/usr/lib/${target.triplet}`, '/lib', '/usr/lib'];
  while (queue.length > 0) {
    const name = queue.shift()!;
    if (satisfied.has(name)) continue;
    satisfied.add(name);
    let found: string | undefined;
    for (const dir of searchPath) {
      if ((await resolveInside(libcRoot, posix.join(dir, name))) !== undefined) {
        found = posix.join(dir, name);
        break;
      }
    }
    if (found === undefined) {
      throw new GociError(
        'NOT_FOUND',
        `${basename(binary)} needs ${name}, which libc6:${target.debianArch} does not hold in ${searchPath.join(', ')}`,
      );
    }
    const entry = await packageFile(libcRoot, found, found);
    entries.push(entry);
    const library = await inspectBinary((entry as { source: string }).source);
    queue.push(...library.needed);
  }
  return { entries: mergeEntries(entries), dynamic: true };
}

/** dash:<arch>'s /bin/dash at /bin/sh, with what it loads. */
async function shellEntries(shellRoot: string, libcRoot: string, target: ForeignTarget): Promise<LayerEntry[]> {
  const sh = await packageFile(shellRoot, '/bin/dash', '/bin/sh');
  const closure = await foreignClosure((sh as { source: string }).source, libcRoot, target);
  return [sh, ...closure.entries];
}

/** A regular file of an unpacked package as a layer entry at `at`, symlinks followed inside the package. */
async function packageFile(root: string, path: string, at: string): Promise<LayerEntry> {
  const resolved = await resolveInside(root, path);
  if (resolved === undefined) throw new GociError('NOT_FOUND', `${path} is not in the unpacked package ${root}`);
  const source = join(root, resolved);
  const stats = await stat(source);
  if (!stats.isFile()) throw new GociError('BAD_ARGUMENT', `${path} in ${root} is not a regular file`);
  return { type: 'file', path: at, mode: stats.mode & 0o7777, uid: 0, gid: 0, source };
}

/**
 * Resolves an absolute path inside `root` as if `root` were `/` (a symlink's absolute target
 * starts again at `root`, `..` stops at it). Undefined when it does not exist.
 */
export async function resolveInside(root: string, path: string): Promise<string | undefined> {
  let pending = path.split('/').filter((part) => part !== '' && part !== '.');
  let resolved: string[] = [];
  let hops = 0;
  while (pending.length > 0) {
    const part = pending.shift()!;
    if (part === '..') {
      resolved.pop();
      continue;
    }
    const candidate = [...resolved, part];
    const stats = await lstat(join(root, ...candidate)).catch(() => undefined);
    if (stats === undefined) return undefined;
    if (stats.isSymbolicLink()) {
      if (++hops > 40) throw new GociError('BAD_ARGUMENT', `${path} in ${root}: too many levels of symbolic links`);
      const target = await readlink(join(root, ...candidate));
      if (target.startsWith('/')) resolved = [];
      pending = [...target.split('/').filter((item) => item !== '' && item !== '.'), ...pending];
      continue;
    }
    resolved = candidate;
  }
  return `/${resolved.join('/')}`;
}

// ---------------------------------------------------------------------------------------------
// .debs: the cache, apt-get download, and the architecture it needs

interface DebRequest {
  name: string;
  /** Debian architecture, or `all`. */
  arch: string;
  /** Exact Debian version; otherwise any cached one, else apt's candidate. */
  version?: string;
}

/** `name_version_arch.deb` as apt-get download names it (an epoch's ':' written %3a). */
function parseDebName(file: string): { name: string; version: string; arch: string } | undefined {
  const match = /^([^_]+)_([^_]+)_([^_]+)\.deb$/.exec(file);
  if (!match) return undefined;
  return { name: match[1]!, version: decodeURIComponent(match[2]!), arch: match[3]! };
}

async function cachedDeb(cacheDir: string, request: DebRequest): Promise<string | undefined> {
  const files = await readdir(cacheDir).catch(() => [] as string[]);
  const matching = files.filter((file) => {
    const parsed = parseDebName(file);
    return (
      parsed !== undefined &&
      parsed.name === request.name &&
      parsed.arch === request.arch &&
      (request.version === undefined || parsed.version === request.version)
    );
  });
  if (matching.length === 0) return undefined;
  let best = matching[0]!;
  for (const file of matching.slice(1)) {
    const newer = await execa(
      'dpkg',
      ['--compare-versions', parseDebName(file)!.version, 'gt', parseDebName(best)!.version],
      { reject: false },
    );
    if (newer.exitCode === 0) best = file;
  }
  return join(cacheDir, best);
}

function aptName(request: DebRequest): string {
  const qualified = request.arch === 'all' ? request.name : `${request.name}:${request.arch}`;
  return request.version === undefined ? qualified : `${qualified}=${request.version}`;
}

/** apt-get update runs at most once per process (and never twice at the same time); it resolves to its errors, '' when none. */
let updated: Promise<string> | undefined;
/** Downloads one at a time, so two images built at once do not race on apt or dpkg. */
let downloads: Promise<unknown> = Promise.resolve();

/** The .debs asked for, in order, from the cache or downloaded into it. */
async function ensureDebs(requests: readonly DebRequest[], cacheDir: string): Promise<string[]> {
  const task = downloads.then(() => ensureDebsNow(requests, cacheDir));
  downloads = task.catch(() => undefined);
  return task;
}

async function ensureDebsNow(requests: readonly DebRequest[], cacheDir: string): Promise<string[]> {
  const found = await Promise.all(requests.map((request) => cachedDeb(cacheDir, request)));
  const missing = requests.filter((_, position) => found[position] === undefined);
  if (missing.length > 0) {
    await mkdir(cacheDir, { recursive: true });
    const staging = await mkdtemp(join(cacheDir, '.download-'));
    try {
      const names = missing.map(aptName);
      let attempt = await aptDownload(names, staging);
      if (attempt.failed) {
        const architectures = [...new Set(missing.map((request) => request.arch).filter((arch) => arch !== 'all'))];
        await addArchitectures(architectures);
        // A failed update can still have fetched what is needed (one index of another suite
        // failing, "Mirror sync in progress?"): its errors only matter if the download fails again.
        updated ??= aptUpdate();
        const updateErrors = await updated;
        attempt = await aptDownload(names, staging);
        if (attempt.failed && updateErrors !== '')
          attempt.stderr += `\n(apt-get update before it: ${updateErrors.trim()})`;
      }
      if (attempt.failed) {
        throw new GociError('IO_FAILED', `apt-get download ${names.join(' ')} failed: ${attempt.stderr.trim()}`, {
          hint: "it needs Debian's package mirror and, for a foreign architecture, root (dpkg --add-architecture and apt-get update)",
        });
      }
      for (const file of await readdir(staging)) {
        if (file.endsWith('.deb')) await rename(join(staging, file), join(cacheDir, file));
      }
    } finally {
      await rm(staging, { recursive: true, force: true });
    }
  }
  return Promise.all(
    requests.map(async (request, position) => {
      const path = found[position] ?? (await cachedDeb(cacheDir, request));
      if (path === undefined)
        throw new GociError(
          'NOT_FOUND',
          `apt-get download ${aptName(request)} left no ${request.name}_*_${request.arch}.deb in ${cacheDir}`,
        );
      return path;
    }),
  );
}

async function aptDownload(names: readonly string[], dir: string): Promise<{ failed: boolean; stderr: string }> {
  // As root, apt hands downloads to the _apt user, who cannot write into a private cache
  // directory (it warns and downloads as root anyway): ask for root straight away.
  const result = await execa('apt-get', ['-q', '-o', 'APT::Sandbox::User=root', 'download', ...names], {
    cwd: dir,
    reject: false,
    stdin: 'ignore',
    env: { LC_ALL: 'C' },
  });
  if (result.failed && (result as { code?: string }).code === 'ENOENT')
    throw new GociError(
      'NOT_FOUND',
      'apt-get is not installed: foreign Go builder images are made from Debian packages',
    );
  return { failed: result.failed, stderr: String(result.stderr) };
}

async function aptUpdate(): Promise<string> {
  const result = await execa('apt-get', ['-q', '-o', 'DPkg::Lock::Timeout=120', 'update'], {
    reject: false,
    stdin: 'ignore',
    env: { LC_ALL: 'C' },
  });
  if ((result as { code?: string }).code === 'ENOENT')
    throw new GociError(
      'NOT_FOUND',
      'apt-get is not installed: foreign Go builder images are made from Debian packages',
    );
  return result.failed ? String(result.stderr || result.shortMessage) : '';
}

async function addArchitectures(architectures: readonly string[]): Promise<void> {
  if (architectures.length === 0) return;
  const known = new Set([
    (await run('dpkg', ['--print-architecture'])).trim(),
    ...(await run('dpkg', ['--print-foreign-architectures'])).split('\n').map((line) => line.trim()),
  ]);
  for (const arch of architectures) {
    if (known.has(arch)) continue;
    await run('dpkg', ['--add-architecture', arch]);
    updated = undefined; // the lists must now include it
  }
}

async function installedVersion(name: string): Promise<string | undefined> {
  // biome-ignore lint/suspicious/noTemplateCurlyInString: ${Version} is dpkg-query's own format syntax
  const result = await execa('dpkg-query', ['-W', '-f=${Version}', name], { reject: false, stdin: 'ignore' });
  return result.exitCode === 0 && String(result.stdout).trim() !== '' ? String(result.stdout).trim() : undefined;
}

async function debField(deb: string, field: string): Promise<string> {
  return (await run('dpkg-deb', ['-f', deb, field])).trim();
}

async function isDirectory(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined))?.isDirectory() ?? false;
}

async function run(command: string, args: readonly string[]): Promise<string> {
  const result = await execa(command, args, { reject: false, stdin: 'ignore', env: { LC_ALL: 'C' } });
  if (result.failed) {
    const reason =
      (result as { code?: string }).code === 'ENOENT'
        ? 'it is not installed'
        : String(result.stderr || result.shortMessage).trim();
    throw new GociError('IO_FAILED', `${command} ${args.join(' ')} failed: ${reason}`);
  }
  return String(result.stdout);
}
