import { existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { gunzip as gunzipCallback } from 'node:zlib';
import { GociError } from '../../common/errors.js';
import type { LayerEntry } from '../layer.js';
import { ustarEntries, type TarMember } from './ustar-entries.js';

/**
 * goci's built-in `static` base: an offline, deterministic equivalent of
 * gcr.io/distroless/static-debian12, made of generated files (passwd, group, nsswitch.conf,
 * os-release) and two vendored data files taken from Debian 12 packages (see
 * `images/base/data/SOURCES.md`). Both variants have the same filesystem; they differ only in
 * the user and working directory of the image config:
 * - `static` (= `nonroot`): user 65532, WorkingDir /home/nonroot;
 * - `static:root` (= `root`): user 0, WorkingDir /.
 */
export type StaticVariant = 'nonroot' | 'root';

export interface StaticBase {
  /** The filesystem, for `writeLayer` (one layer). */
  entries: LayerEntry[];
  /** Config.Env, `KEY=value`. */
  env: string[];
  /** Config.User: a numeric uid. */
  user: string;
  /** Config.WorkingDir. */
  workingDir: string;
  /** The content of /usr/lib/os-release (which /etc/os-release links to). */
  osRelease: string;
}

/** Goes into os-release's VERSION_ID; raise it whenever the content of the base changes. */
export const STATIC_BASE_VERSION = '2';

/** The Debian 12 packages the vendored data comes from, as SOURCES.md records them. */
export const STATIC_BASE_PACKAGES = {
  'ca-certificates': '20230311+deb12u1',
  netbase: '6.4',
  tzdata: '2025b-0+deb12u2',
} as const;

export const CA_BUNDLE_FILE = 'ca-certificates.crt';
export const ZONEINFO_ARCHIVE_FILE = 'zoneinfo.tar.gz';
/** netbase's files, which Go's net package reads (net.LookupPort reads /etc/services). */
export const NETBASE_FILES = ['ethertypes', 'protocols', 'services'] as const;
/** The vendored packages' dpkg status stanzas: one status.d file each, as distroless records them for scanners. */
export const DPKG_STATUS_FILE = 'dpkg-status';
/** Every vendored data file, in the order the base's fingerprint hashes them. */
export const STATIC_BASE_DATA_FILES: readonly string[] = [
  CA_BUNDLE_FILE,
  ZONEINFO_ARCHIVE_FILE,
  ...NETBASE_FILES,
  DPKG_STATUS_FILE,
];

export const ROOT_UID = 0;
export const NOBODY_UID = 65534;
export const NONROOT_UID = 65532;

export const STATIC_BASE_ENV: readonly string[] = [
  'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
  'SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt',
];

/**
 * The directory holding the vendored data: the first of `<this module's dir>/data` and
 * `<package root>/images/base/data` that holds both data files. The first is where the sources
 * keep it (`images/base/static.ts` run as is); tsc (`lib/images/base/static.js`) and esbuild
 * (`lib/goci.cjs`) copy no data files, so from there the package root is found by walking up
 * to the nearest package.json named "goci". When neither holds the files this is the first
 * candidate, and `staticBase` fails naming it.
 */
export const BASE_DATA_DIR: string = locateDataDir(dirname(fileURLToPath(import.meta.url)));

function holdsData(dir: string): boolean {
  return STATIC_BASE_DATA_FILES.every((file) => existsSync(join(dir, file)));
}

function isGociPackage(manifest: string): boolean {
  try {
    return (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: unknown }).name === 'goci';
  } catch {
    return false;
  }
}

function locateDataDir(moduleDir: string): string {
  const beside = join(moduleDir, 'data');
  if (holdsData(beside)) return beside;
  for (let dir = moduleDir; ; dir = dirname(dir)) {
    if (isGociPackage(join(dir, 'package.json'))) {
      const inPackage = join(dir, 'images', 'base', 'data');
      if (holdsData(inPackage)) return inPackage;
      break;
    }
    if (dirname(dir) === dir) break;
  }
  return beside;
}

const FILE_MODE = 0o644;
const DIRECTORY_MODE = 0o755;
const PRIVATE_DIRECTORY_MODE = 0o700;
const STICKY_WORLD_WRITABLE_MODE = 0o1777;

/** `root:x:0:0:root:/root:/sbin/nologin` etc., as distroless's //common:passwd writes them. */
export const PASSWD = [
  `root:x:${ROOT_UID}:${ROOT_UID}:root:/root:/sbin/nologin`,
  `nobody:x:${NOBODY_UID}:${NOBODY_UID}:nobody:/nonexistent:/sbin/nologin`,
  `nonroot:x:${NONROOT_UID}:${NONROOT_UID}:nonroot:/home/nonroot:/sbin/nologin`,
  '',
].join('\n');

/** distroless's //common:group, in its order. */
export const GROUP = [
  `root:x:${ROOT_UID}:`,
  `nobody:x:${NOBODY_UID}:`,
  'tty:x:5:',
  'staff:x:50:',
  `nonroot:x:${NONROOT_UID}:`,
  '',
].join('\n');

/**
 * distroless's static/nsswitch.conf, byte for byte (Debian's old default). Go's pure resolver
 * reads only the `hosts:` line ("files dns": /etc/hosts first, then DNS).
 */
export const NSSWITCH_CONF = `# /etc/nsswitch.conf
#
# Example configuration of GNU Name Service Switch functionality.
# If you have the \`glibc-doc-reference' and \`info' packages installed, try:
# \`info libc "Name Service Switch"' for information about this file.

passwd:         compat
group:          compat
shadow:         compat
gshadow:        files

hosts:          files dns
networks:       files

protocols:      db files
services:       db files
ethers:         db files
rpc:            db files

netgroup:       nis
`;

/**
 * /usr/lib/os-release. Debian's layout, which distroless keeps: the file lives in /usr/lib and
 * /etc/os-release is a relative symlink to it. Like distroless's, it says Debian 12: every file
 * of the base that is not goci's own comes from Debian 12 packages, and scanners map ID and
 * VERSION_ID to the distribution whose advisories apply to them.
 */
export const OS_RELEASE = [
  'PRETTY_NAME="goci static (Debian GNU/Linux 12)"',
  'NAME="Debian GNU/Linux"',
  'ID=debian',
  'VERSION_ID="12"',
  'VERSION="12 (bookworm)"',
  'VERSION_CODENAME=bookworm',
  'HOME_URL="https://github.com/goci-dev/goci"',
  `GOCI_STATIC_BASE_VERSION="${STATIC_BASE_VERSION}"`,
  '',
].join('\n');

const ZONEINFO_PREFIX = 'zoneinfo';
const ZONEINFO_PATH = '/usr/share/zoneinfo';

/** The zoneinfo tree as layer entries, read once per process (shared, never to be mutated). */
let zoneinfo: Promise<readonly LayerEntry[]> | undefined;

/**
 * The filesystem and config of goci's `static` base (`nonroot`) or `static:root` (`root`).
 *
 * Every entry is owned by 0:0 except /home/nonroot (65532:65532); files are 0644, directories
 * 0755 except /tmp (1777), /root and /home/nonroot (0700). The CA bundle is streamed from
 * BASE_DATA_DIR by `writeLayer`; the zoneinfo tree (~1300 entries, ~2 MB) is unpacked from the
 * vendored tarball into memory once per process, keeping its files, directories and symlinks
 * (targets verbatim) but none of its modes or owners. In-memory buffers rather than a cache
 * directory: nothing to invalidate, clean up or race on, and 2 MB is small next to a Go binary.
 * The returned `content` buffers are shared between calls: do not modify them.
 */
export async function staticBase(variant: StaticVariant): Promise<StaticBase> {
  if (variant !== 'nonroot' && variant !== 'root') {
    throw new GociError('BAD_ARGUMENT', `unknown static base variant ${JSON.stringify(variant)}`, {
      hint: "use 'nonroot' (the static base) or 'root' (static:root)",
    });
  }
  const caBundle = join(BASE_DATA_DIR, CA_BUNDLE_FILE);
  if (!existsSync(caBundle)) throw missingData(caBundle);
  const zones = await zoneinfoEntries();

  const root = { uid: ROOT_UID, gid: ROOT_UID };
  const directory = (path: string, mode = DIRECTORY_MODE): LayerEntry => ({ type: 'directory', path, mode, ...root });
  const text = (path: string, content: string): LayerEntry => ({
    type: 'file',
    path,
    mode: FILE_MODE,
    ...root,
    content: new Uint8Array(Buffer.from(content, 'utf8')),
  });

  const entries: LayerEntry[] = [
    directory('/etc'),
    text('/etc/group', GROUP),
    text('/etc/nsswitch.conf', NSSWITCH_CONF),
    { type: 'symlink', path: '/etc/os-release', target: '../usr/lib/os-release', ...root },
    text('/etc/passwd', PASSWD),
    ...NETBASE_FILES.map(
      (name): LayerEntry => ({
        type: 'file',
        path: `/etc/${name}`,
        mode: FILE_MODE,
        ...root,
        source: join(BASE_DATA_DIR, name),
      }),
    ),
    directory('/etc/ssl'),
    directory('/etc/ssl/certs'),
    { type: 'file', path: '/etc/ssl/certs/ca-certificates.crt', mode: FILE_MODE, ...root, source: caBundle },
    directory('/home'),
    { type: 'directory', path: '/home/nonroot', mode: PRIVATE_DIRECTORY_MODE, uid: NONROOT_UID, gid: NONROOT_UID },
    directory('/root', PRIVATE_DIRECTORY_MODE),
    directory('/tmp', STICKY_WORLD_WRITABLE_MODE),
    directory('/usr'),
    directory('/usr/lib'),
    text('/usr/lib/os-release', OS_RELEASE),
    directory('/usr/share'),
    directory('/var'),
    directory('/var/lib'),
    directory('/var/lib/dpkg'),
    directory('/var/lib/dpkg/status.d'),
    ...(await dpkgStatusEntries()).map(([name, stanza]) => text(`/var/lib/dpkg/status.d/${name}`, stanza)),
    // Copies of the shared entries, so a caller that edits its list cannot change the next one.
    ...zones.map((entry) => ({ ...entry })),
  ];

  return { entries, ...staticRuntime(variant), osRelease: OS_RELEASE };
}

/** What a container of the base starts as; known without loading the base's files. */
export function staticRuntime(variant: StaticVariant): { env: string[]; user: string; workingDir: string } {
  return {
    env: [...STATIC_BASE_ENV],
    user: variant === 'root' ? String(ROOT_UID) : String(NONROOT_UID),
    workingDir: variant === 'root' ? '/' : '/home/nonroot',
  };
}

/** Each package's stanza of the vendored dpkg status, by package name, in file order. */
async function dpkgStatusEntries(): Promise<[string, string][]> {
  const path = join(BASE_DATA_DIR, DPKG_STATUS_FILE);
  const text = await readFile(path, 'utf8').catch(() => {
    throw missingData(path);
  });
  return text
    .split(/\n\n+/)
    .filter((stanza) => stanza.trim() !== '')
    .map((stanza) => {
      const name = /^Package: (\S+)$/m.exec(stanza)?.[1];
      if (name === undefined || !/^[a-z0-9][a-z0-9+.-]+$/.test(name)) throw missingData(path);
      return [name, `${stanza.trimEnd()}\n`];
    });
}

function missingData(path: string): GociError {
  return new GociError('NOT_FOUND', `the static base image data ${path} is missing`, {
    hint: 'goci looks for images/base/data next to its code or in its package root; reinstall goci, or run scripts/refresh-base-data.sh in a checkout',
  });
}

function badArchive(archive: string, why: string, cause?: unknown): GociError {
  return new GociError('IO_FAILED', `the static base image data ${archive} is not a usable zoneinfo archive: ${why}`, {
    hint: 'regenerate it with scripts/refresh-base-data.sh',
    ...(cause === undefined ? {} : { cause }),
  });
}

function zoneinfoEntries(): Promise<readonly LayerEntry[]> {
  zoneinfo ??= readZoneinfo(join(BASE_DATA_DIR, ZONEINFO_ARCHIVE_FILE)).catch((error: unknown) => {
    zoneinfo = undefined; // let a later call try again (the file may have been restored)
    throw error;
  });
  return zoneinfo;
}

const gunzip = promisify(gunzipCallback);

/**
 * Maps `zoneinfo/<rest>` in the archive to `/usr/share/zoneinfo/<rest>`, rejecting anything
 * outside that tree or with `.`/`..`/empty segments.
 */
function containerPath(archive: string, name: string): string {
  const trimmed = name.endsWith('/') ? name.slice(0, -1) : name;
  const segments = trimmed.split('/');
  if (
    segments[0] !== ZONEINFO_PREFIX ||
    segments.some((segment) => segment === '' || segment === '.' || segment === '..')
  ) {
    throw badArchive(archive, `entry ${JSON.stringify(name)} is not inside ${ZONEINFO_PREFIX}/`);
  }
  return [ZONEINFO_PATH, ...segments.slice(1)].join('/');
}

async function readZoneinfo(archive: string): Promise<readonly LayerEntry[]> {
  let compressed: Buffer;
  try {
    compressed = await readFile(archive);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw missingData(archive);
    throw new GociError('IO_FAILED', `cannot read ${archive}: ${(error as Error).message}`, { cause: error });
  }
  let tar: Buffer;
  try {
    tar = await gunzip(compressed);
  } catch (error) {
    throw badArchive(archive, (error as Error).message, error);
  }

  let members: TarMember[];
  try {
    members = ustarEntries(tar);
  } catch (error) {
    throw badArchive(archive, (error as Error).message, error);
  }
  const entries: LayerEntry[] = [];
  for (const member of members) {
    const path = containerPath(archive, member.name);
    switch (member.type) {
      case 'file':
        entries.push({
          type: 'file',
          path,
          mode: FILE_MODE,
          uid: ROOT_UID,
          gid: ROOT_UID,
          content: new Uint8Array(member.content),
        });
        break;
      case 'directory':
        entries.push({ type: 'directory', path, mode: DIRECTORY_MODE, uid: ROOT_UID, gid: ROOT_UID });
        break;
      case 'symlink':
        if (!member.linkname) throw badArchive(archive, `symlink ${member.name} has no target`);
        entries.push({ type: 'symlink', path, target: member.linkname, uid: ROOT_UID, gid: ROOT_UID });
        break;
    }
  }
  if (!entries.some((entry) => entry.path === ZONEINFO_PATH && entry.type === 'directory')) {
    throw badArchive(archive, `it has no ${ZONEINFO_PREFIX}/ directory`);
  }
  return entries;
}
