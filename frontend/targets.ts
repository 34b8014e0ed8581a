import { posix } from 'node:path';
import { GociError } from '../common/errors.js';
import { findModule, type ModuleFacts } from '../compiler/module.js';
import { specTargets, type Target } from '../compiler/plan.js';
import { formatPlatform, resolvePlatforms } from '../compiler/platform.js';
import type { Platform } from '../oci/platform.js';
import type { Stamp } from '../compiler/version.js';
import { imageBuildIds } from '../spec/image-builds.js';
import { fieldLocation } from '../spec/load.js';
import type { BuildSpec, ImageSpec, Spec } from '../spec/schema.js';
import type { Gateway } from './gateway.js';
import { GO_PORTS } from './go-ports.js';

/** Where BuildKit's context is mounted for go build: the frontend's source paths are below it. */
export const SOURCE_DIR = '/src';

export interface TargetRequest {
  spec: Spec;
  image: ImageSpec;
  /** The platforms BuildKit asked for (`--platform`), or the worker's. */
  platforms: Platform[];
  stamp: Stamp;
  /** Build args: the environment go build's command is made with. */
  args: Record<string, string>;
}

/**
 * The compiler's plan inside BuildKit (compiler/plan.ts specTargets, as the CLI makes it) for
 * the image's builds: a build's own `platforms` restricted to the requested ones (a build without
 * them takes the requested ones). Module facts are read from the context through BuildKit.
 */
export async function frontendTargets(gateway: Gateway, contextRef: string, request: TargetRequest): Promise<Target[]> {
  const { spec } = request;
  const inImage = new Set(imageBuildIds(spec, request.image));
  const builds = spec.builds.filter((build) => inImage.has(build.id));
  const modules = new Map<string, ModuleFacts>();
  for (const build of builds) modules.set(build.id, await findModuleIn(gateway, contextRef, build.dir));
  for (const build of builds) if (modules.get(build.id)?.mode === 'gopath') throw gopathRefused(spec, build);
  const imageSpec: Spec = { ...spec, builds };
  return specTargets(imageSpec, {
    stamp: request.stamp,
    context: { dir: SOURCE_DIR, shown: 'the build context' },
    placeOf: (build) => ({
      cwd: posix.join(SOURCE_DIR, build.dir),
      module: modules.get(build.id) ?? { root: undefined, mode: 'gopath' },
    }),
    platformsOf: (build) => requestedOf(spec, build, request.platforms),
    // A context rarely carries .git, and the builder image may have no git: stamp from build args.
    buildvcs: (build) => build.buildvcs ?? 'false',
    env: request.args,
  });
}

/** The requested platforms this build lists (all of them when it lists none); none is an error. */
function requestedOf(spec: Spec, build: BuildSpec, requested: Platform[]): Platform[] {
  if (build.platforms === undefined) return requested;
  const where = fieldLocation(spec, `${build.path}.platforms`);
  const own = resolvePlatforms(build.platforms, GO_PORTS, where, true).map(formatPlatform);
  const missing = requested.filter((platform) => !own.includes(formatPlatform(platform)));
  if (missing.length > 0)
    throw new GociError(
      'BAD_PLATFORM',
      `${where}: ${missing.map(formatPlatform).join(', ')} is not one of this build's platforms (${own.join(', ')})`,
      { hint: 'request only platforms the build lists, or add them to builds[].platforms' },
    );
  return requested;
}

/** The compiler's module lookup from where go build runs, asking BuildKit what the context holds (nothing above it). */
async function findModuleIn(gateway: Gateway, ref: string, dir: string): Promise<ModuleFacts> {
  return findModule(posix.join(SOURCE_DIR, dir), async (path) => {
    const inContext = posix.relative(SOURCE_DIR, path);
    if (inContext.startsWith('..')) return false;
    return gateway.exists(ref, posix.join('/', inContext));
  });
}

/**
 * GOPATH mode needs the source at $GOPATH/src/<its import path>, which nothing in the build
 * context says: the frontend builds modules only, and says so rather than fail inside go.
 */
function gopathRefused(spec: Spec, build: BuildSpec): GociError {
  return new GociError(
    'BAD_SPEC',
    `${fieldLocation(spec, build.path)}: no go.mod in the build context for ${build.dir}`,
    {
      hint: 'the frontend builds Go modules: add a go.mod (go mod init), or build it with the goci CLI in its GOPATH',
    },
  );
}
