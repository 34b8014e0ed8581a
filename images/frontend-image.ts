import { stat } from 'node:fs/promises';
import { dirname, join, posix } from 'node:path';
import { GociError } from '../common/errors.js';
import { hostLinuxPlatform } from '../compiler/platform.js';
import type { RegistryClient } from '../registry/client.js';
import type { RemoteBaseLayers } from './assemble.js';
import { isBuiltInBase, resolveAnyBase } from './base/resolve.js';
import { downloadBaseLayers } from './base/download.js';
import { BASE_DATA_DIR, staticBase } from './base/static.js';
import { assembleHostImage, executableClosure, hostFileEntries, mergeEntries, type HostImage } from './host-files.js';
import type { LayerEntry } from './layer.js';
import type { ImageFormat } from '../oci/media-types.js';

/**
 * goci's BuildKit gateway frontend image, made with goci's own image code (no Docker): the
 * bundled CLI (`lib/goci.cjs`), run by Node as `goci frontend`. Dockerfile.frontend builds the
 * equivalent with Docker from node:20-slim.
 */
export interface FrontendImageOptions {
  /**
   * `host`: this machine's node binary and the libraries it loads, nothing else (no shell, no
   * npm). A registry reference (`docker.io/library/node:20-slim`, `127.0.0.1:5000/node:20`): that
   * image, which must have `node` on its PATH, with the bundle on top.
   */
  base: string;
  /** The bundled CLI, `lib/goci.cjs` (npm run build writes it). */
  bundle: string;
  /** The OCI layout to write the image into (not tagged here). */
  layoutDir: string;
  /** goci's base image data (CA bundle, zoneinfo): images/base/data. Default: the one this goci uses. */
  dataDir?: string;
  /** Unix seconds of every timestamp. Default 0. */
  epoch?: number;
  format?: ImageFormat;
  /** A registry base needs a client for its registry. */
  clientFor?: (registry: string) => RegistryClient;
  /**
   * Fetch a registry base's layers into the layout (a tarball, `docker load` and the layout
   * itself need them; a push to the base's own registry can mount them instead). Default true.
   */
  fetchBaseLayers?: boolean;
  /** The node binary of a `host` image. Default: the one running goci (process.execPath). */
  node?: string;
}

export interface FrontendImage extends HostImage {
  /** The registry base, when there is one. */
  base: RemoteBaseLayers | undefined;
  entrypoint: string[];
  labels: Record<string, string>;
}

/** Where the bundle lives in the image; it finds its data through the package.json beside it. */
export const FRONTEND_DIR = '/goci';
export const FRONTEND_BUNDLE = `${FRONTEND_DIR}/goci.cjs`;
/** The CLI bundle the launcher (goci.cjs) runs, beside it (scripts/bundle.mjs writes both). */
export const CLI_BUNDLE = 'cli.cjs';
/**
 * The built-in static base's filesystem (the entries of the CLI's base layer, shared by `static`
 * and `static:root`), which the frontend copies into the images it builds.
 */
export const FRONTEND_BASE_DIR = `${FRONTEND_DIR}/base/static`;
const NODE_IN_IMAGE = '/usr/bin/node';

/**
 * BuildKit starts a frontend container with network mode none only if the image says it may
 * (dockerd --bridge=none has no bridge network to give it otherwise). The
 * `moby.buildkit.frontend.caps` label (moby.buildkit.frontend.inputs, ...subrequests) is left
 * out: the frontend implements neither yet, and BuildKit would send requests that rely on them.
 */
export const FRONTEND_LABELS: Readonly<Record<string, string>> = { 'moby.buildkit.frontend.network.none': 'true' };

/** The `"type": "module"` manifest named goci that tells the bundle (images/base/static.ts) where its data is. */
export const FRONTEND_PACKAGE_JSON = '{"name":"goci","type":"module"}\n';

const HOST_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

async function checkFile(path: string, what: string, hint: string): Promise<void> {
  const stats = await stat(path).catch(() => undefined);
  if (!stats?.isFile()) throw new GociError('NOT_FOUND', `${what} ${path} does not exist`, { hint });
}

/**
 * /goci: the launcher and the CLI bundle it runs (cli.cjs beside it), its package.json, the base
 * data it reads and the static base's filesystem (FRONTEND_BASE_DIR).
 */
async function appEntries(bundle: string, dataDir: string): Promise<LayerEntry[]> {
  await checkFile(bundle, 'the goci bundle', 'run npm run build first (it writes lib/goci.cjs)');
  const cli = join(dirname(bundle), CLI_BUNDLE);
  await checkFile(cli, "the goci bundle's code", `run npm run build first (it writes lib/${CLI_BUNDLE})`);
  return mergeEntries(
    [
      { type: 'file', path: FRONTEND_BUNDLE, mode: 0o644, uid: 0, gid: 0, source: bundle },
      { type: 'file', path: `${FRONTEND_DIR}/${CLI_BUNDLE}`, mode: 0o644, uid: 0, gid: 0, source: cli },
      {
        type: 'file',
        path: `${FRONTEND_DIR}/package.json`,
        mode: 0o644,
        uid: 0,
        gid: 0,
        content: Buffer.from(FRONTEND_PACKAGE_JSON),
      },
    ],
    await hostFileEntries([{ source: dataDir, at: `${FRONTEND_DIR}/images/base/data` }]),
    [
      { type: 'directory', path: `${FRONTEND_DIR}/base`, mode: 0o755, uid: 0, gid: 0 },
      { type: 'directory', path: FRONTEND_BASE_DIR, mode: 0o755, uid: 0, gid: 0 },
    ],
    (await staticBase('nonroot')).entries.map((entry) => ({
      ...entry,
      path: posix.join(FRONTEND_BASE_DIR, entry.path),
    })),
  );
}

/**
 * Writes the frontend image for this machine's linux platform into `options.layoutDir`.
 *
 * `host`: two layers, (1) node (process.execPath, dereferenced, at /usr/bin/node) with its ELF
 * loader and libraries (libstdc++, libm, libgcc_s, libc, ...) and /tmp (1777), (2) /goci.
 * Entrypoint `["/usr/bin/node", "/goci/goci.cjs", "frontend"]`, Env PATH.
 *
 * A registry base: its layers, then /goci; Entrypoint `["node", "/goci/goci.cjs", "frontend"]`
 * (the base's PATH finds node), the base's Env, User, WorkingDir and labels kept, its Cmd
 * dropped (BuildKit ignores Cmd; docker run would pass it to goci).
 *
 * Labels: FRONTEND_LABELS. Deterministic for the same node, bundle and data.
 */
export async function frontendImage(options: FrontendImageOptions): Promise<FrontendImage> {
  const dataDir = options.dataDir ?? BASE_DATA_DIR;
  const platform = hostLinuxPlatform();
  const app = {
    entries: await appEntries(options.bundle, dataDir),
    createdBy: `goci frontend-image: ${FRONTEND_DIR} (goci.cjs, cli.cjs, package.json, images/base/data)`,
  };
  const common = {
    layoutDir: options.layoutDir,
    platform,
    epoch: options.epoch ?? 0,
    ...(options.format ? { format: options.format } : {}),
  };

  if (options.base === 'host') {
    const node = await executableClosure(options.node ?? process.execPath, { at: NODE_IN_IMAGE });
    const runtimeLayer = mergeEntries(node.entries, [
      { type: 'directory', path: '/tmp', mode: 0o1777, uid: 0, gid: 0 },
    ]);
    const entrypoint = [NODE_IN_IMAGE, FRONTEND_BUNDLE, 'frontend'];
    const labels = { ...FRONTEND_LABELS };
    const image = await assembleHostImage({
      ...common,
      layers: [
        {
          entries: runtimeLayer,
          createdBy: `goci frontend-image: this machine's node (${node.source}) at ${NODE_IN_IMAGE}, its loader ${node.interpreter ?? '(none)'} and libraries ${node.libraries.join(' ') || '(none)'}; /tmp`,
        },
        app,
      ],
      runtime: { entrypoint, env: [HOST_PATH], labels },
    });
    return { ...image, base: undefined, entrypoint, labels };
  }

  if (isBuiltInBase(options.base)) {
    throw new GociError(
      'BAD_ARGUMENT',
      `--base ${options.base}: goci's built-in bases have no node to run the frontend`,
      { hint: 'use --base host, or a registry image with node, such as docker.io/library/node:20-slim' },
    );
  }
  if (!options.clientFor)
    throw new GociError(
      'BAD_ARGUMENT',
      `the base ${options.base} is a registry image, and no registry client was given`,
    );
  const base = await resolveAnyBase(options.base, '--base', { platforms: [platform], clientFor: options.clientFor });
  if (base.kind !== 'remote') throw new Error(`${options.base} did not resolve to a registry base`);
  const remote = base.remote.platforms[0]!;
  const entrypoint = ['node', FRONTEND_BUNDLE, 'frontend'];
  const labels = { ...remote.labels, ...FRONTEND_LABELS };
  const image = await assembleHostImage({
    ...common,
    base,
    layers: [app],
    runtime: {
      entrypoint,
      env: base.env,
      user: base.user,
      workingDir: base.workingDir,
      exposedPorts: remote.exposedPorts,
      volumes: [],
      labels,
    },
  });
  if (options.fetchBaseLayers ?? true)
    await downloadBaseLayers(options.clientFor(base.remote.ref.registry), base, options.layoutDir, 4);
  return { ...image, base, entrypoint, labels };
}
