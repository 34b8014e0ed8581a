import { readFile, realpath } from 'node:fs/promises';
import { basename, dirname, join, relative, sep } from 'node:path';
import { isInside } from '../common/inside.js';
import { GociError } from '../common/errors.js';
import { inspectBinary } from '../compiler/binary/inspect.js';
import { goTargetEnv, hostLinuxPlatform } from '../compiler/platform.js';
import {
  assembleHostImage,
  executableClosure,
  hostFileEntries,
  mergeEntries,
  type HostEntryKind,
  type HostImage,
} from './host-files.js';
import type { LayerEntry } from './layer.js';

/**
 * A Go builder image made from THIS machine's Go toolchain (`goci builder-image`; Debian's
 * golang-1.19-go is /usr/lib/go-1.19 plus the sources in /usr/share/go-1.19): the GO_IMAGE of the
 * BuildKit frontend on a machine that cannot pull golang:1.19, with the CLI's very Go version.
 * It holds only what `go build` / `go vet` / `go test` of user code need, not a whole GOROOT.
 */
export interface GoBuilderImageOptions {
  /** GOROOT on this machine; also GOROOT in the image. Default /usr/lib/go-1.19. */
  goroot?: string;
  /**
   * Debian's architecture-independent half of the toolchain, which GOROOT's `src` and
   * `pkg/include` link into. Default /usr/share/go-1.19; undefined for a plain GOROOT that holds
   * its own sources (a go.dev tarball).
   */
  share?: string | undefined;
  /** Adds /bin/sh (this machine's dash) and /usr/bin/env with their libraries, for Dockerfile RUN lines in shell form. */
  withShell: boolean;
  /** The OCI layout to write the image into (created if missing; other tags are kept). */
  layoutDir: string;
  /** Unix seconds of every timestamp. Default 0. */
  epoch?: number;
}

export interface GoBuilderImage extends HostImage {
  /** What `go version` prints, from the binary's build info (`go1.19.8`). */
  goVersion: string;
  /** Whether the `go` binary is dynamically linked (Debian's is: cgo for net and os/user), so its loader and libc are in the image. */
  goDynamic: boolean;
  /** Config.Env. */
  env: string[];
}

export const DEFAULT_GOROOT = '/usr/lib/go-1.19';
export const DEFAULT_GO_SHARE = '/usr/share/go-1.19';

/**
 * The tools of GOROOT/pkg/tool/<goos>_<goarch> the go command runs for build, vet and test
 * (cgo only with CGO_ENABLED=1; cover and test2json for `go test`). Left out: addr2line, api,
 * dist, doc, fix, nm, objdump, pprof, trace (35 MB; `go tool` debugging aids).
 */
export const GO_BUILD_TOOLS: readonly string[] = [
  'asm',
  'buildid',
  'cgo',
  'compile',
  'cover',
  'link',
  'pack',
  'test2json',
  'vet',
];

/**
 * Which parts of a toolchain tree go into the image, by path inside the tree (GOROOT or the
 * share tree, which have the same shape): VERSION, bin/, pkg/include, pkg/tool/<host>/ (the
 * tools above), and src/ without the `cmd` module (the toolchain's own sources, a separate
 * module `go build` of user code never loads), `testdata` directories and `_test.go` files.
 * Left out besides: api/, misc/, test/ (and GOROOT's links to them), doc/, lib/, and
 * pkg/<goos>_<goarch>/ — Go 1.19's precompiled standard library (238 MB): the go command
 * compiles what it needs into GOCACHE instead. Without it a native cgo build would need a C
 * compiler; the image has none, so CGO_ENABLED=0 is set.
 */
export function keepInToolchain(relativePath: string, kind: HostEntryKind, toolDir: string): boolean {
  const parts = relativePath.split(sep);
  const [top, second, third, fourth] = parts;
  switch (top) {
    case 'VERSION':
    case 'bin':
      return true;
    case 'pkg':
      if (second === undefined) return true;
      if (second === 'include') return true;
      if (second !== 'tool') return false;
      if (third === undefined) return true;
      if (third !== toolDir) return false;
      return fourth === undefined || (parts.length === 4 && GO_BUILD_TOOLS.includes(fourth));
    case 'src':
      if (second === 'cmd' && parts.length === 2) return false;
      if (kind === 'directory' && parts.at(-1) === 'testdata') return false;
      if (kind === 'file' && parts.at(-1)!.endsWith('_test.go')) return false;
      return true;
    default:
      return false;
  }
}

/**
 * What every Go builder image has besides the toolchain and its loader: root (whose login shell is
 * /bin/sh only in the image that has one), /root, /tmp and the /src working directory.
 */
export function builderSystemEntries(withShell: boolean): LayerEntry[] {
  return [
    {
      type: 'file',
      path: '/etc/passwd',
      mode: 0o644,
      uid: 0,
      gid: 0,
      content: Buffer.from(`root:x:0:0:root:/root:${withShell ? '/bin/sh' : '/sbin/nologin'}\n`),
    },
    { type: 'file', path: '/etc/group', mode: 0o644, uid: 0, gid: 0, content: Buffer.from('root:x:0:\n') },
    { type: 'directory', path: '/root', mode: 0o700, uid: 0, gid: 0 },
    { type: 'directory', path: '/tmp', mode: 0o1777, uid: 0, gid: 0 },
    { type: 'directory', path: '/src', mode: 0o755, uid: 0, gid: 0 },
  ];
}

/** The Go version of the toolchain at `goroot` (`go1.19.8`), as its go binary's build info says. */
export async function toolchainGoVersion(goroot: string): Promise<string> {
  const goBinary = join(goroot, 'bin', 'go');
  const report = await inspectBinary(goBinary);
  const goVersion = report.buildInfo?.goVersion;
  if (goVersion === undefined)
    throw new GociError('BAD_BINARY', `${goBinary} carries no Go build info, so it is not a Go toolchain's go command`);
  const version = (await readFile(join(goroot, 'VERSION'), 'utf8').catch(() => '')).split('\n')[0]?.trim();
  if (version && version !== goVersion)
    throw new GociError('BAD_ARGUMENT', `${goroot}/VERSION says ${version} but ${goBinary} is ${goVersion}`);
  return goVersion;
}

/**
 * Where a GOROOT's sources really are when they are outside it: Debian's /usr/lib/go-1.19/src
 * links to /usr/share/go-1.19/src, so /usr/share/go-1.19 is part of the toolchain too. A go.dev
 * tarball's GOROOT holds its own sources: undefined.
 */
export async function shareTree(goroot: string): Promise<string | undefined> {
  const [root, sources] = await Promise.all([realpath(goroot), realpath(join(goroot, 'src')).catch(() => undefined)]);
  if (sources === undefined || isInside(sources, root)) return undefined;
  return dirname(sources);
}

/**
 * Builds the image into `options.layoutDir` (untagged; tag it with tagInLayout, or write a
 * tarball from the result) for this machine's linux platform, in two layers:
 * 1. the toolchain: GOROOT and the share tree, filtered by keepInToolchain, symlinks kept as
 *    symlinks (so Debian's GOROOT/src → ../../share/go-1.19/src still resolves);
 * 2. the system: the `go` binary's loader and libraries when it is dynamic, /etc/passwd and
 *    /etc/group with root, /root (0700), /tmp (1777), /src, and with `withShell` /bin/sh
 *    (dash, dereferenced) and /usr/bin/env with theirs.
 * The toolchain layer comes first, so both variants share it (and Docker stores it once).
 *
 * Config: Env PATH=GOROOT/bin:/usr/local/bin:/usr/bin:/bin, GOROOT, GOCACHE=/root/.cache/go-build,
 * CGO_ENABLED=0 (no C compiler in the image); WorkingDir /src; no Entrypoint or Cmd; GOFLAGS unset.
 * Deterministic: mtime `epoch` (0), owners 0:0, the same machine gives the same digest.
 */
export async function goBuilderImage(options: GoBuilderImageOptions): Promise<GoBuilderImage> {
  const goroot = options.goroot ?? DEFAULT_GOROOT;
  const share = 'share' in options ? options.share : await shareTree(goroot);
  const host = hostLinuxPlatform();
  const toolDir = `${goTargetEnv(host).GOOS}_${goTargetEnv(host).GOARCH}`;
  const goBinary = join(goroot, 'bin', 'go');

  const goVersion = await toolchainGoVersion(goroot);

  const treeFilter =
    (root: string) =>
    (path: string, kind: HostEntryKind): boolean =>
      !keepInToolchain(relative(root, path), kind, toolDir);
  const toolchain = mergeEntries(
    await hostFileEntries([goroot], { exclude: treeFilter(goroot) }),
    ...(share === undefined ? [] : [await hostFileEntries([share], { exclude: treeFilter(share) })]),
  );

  const goClosure = await executableClosure(goBinary);
  const shell = options.withShell
    ? await Promise.all([executableClosure('/bin/sh', { at: '/bin/sh' }), executableClosure('/usr/bin/env')])
    : [];
  const system: LayerEntry[] = mergeEntries(
    // The toolchain layer has the binary itself; this one only what loads it.
    goClosure.entries.filter((entry) => entry.path !== goBinary),
    ...shell.map((closure) => closure.entries),
    builderSystemEntries(options.withShell),
  );

  const env = [
    `PATH=${goroot}/bin:/usr/local/bin:/usr/bin:/bin`,
    `GOROOT=${goroot}`,
    'GOCACHE=/root/.cache/go-build',
    'CGO_ENABLED=0',
  ];
  const trees = [goroot, ...(share === undefined ? [] : [share])].join(' ');
  const image = await assembleHostImage({
    layoutDir: options.layoutDir,
    platform: host,
    epoch: options.epoch ?? 0,
    layers: [
      {
        entries: toolchain,
        createdBy: `goci go-builder: ${goVersion} toolchain from ${trees} (bin, pkg/include, pkg/tool/${toolDir}: ${GO_BUILD_TOOLS.join(' ')}, src without cmd, testdata and tests)`,
      },
      {
        entries: system,
        createdBy: `goci go-builder: ${[goClosure.dynamic ? `${basename(goBinary)}'s loader and libraries` : '', options.withShell ? '/bin/sh (dash), /usr/bin/env and their libraries' : '', '/etc/passwd, /etc/group, /root, /tmp, /src'].filter(Boolean).join('; ')}`,
      },
    ],
    runtime: {
      env,
      workingDir: '/src',
      labels: { 'org.opencontainers.image.title': 'goci go builder', 'org.opencontainers.image.version': goVersion },
    },
  });
  return { ...image, goVersion, goDynamic: goClosure.dynamic, env };
}
