import { posix } from 'node:path';
import { GociError } from '../common/errors.js';
import { inspectBuffer } from '../compiler/binary/inspect.js';
import { commandLine, goBuildCommand } from '../compiler/command.js';
import { checkPathsStayInContext } from '../compiler/context.js';
import { formatPlatform, resolvePlatforms, type Platform } from '../compiler/platform.js';
import { NO_SOURCE_STATE } from '../compiler/git.js';
import { makeStamp, type Stamp } from '../compiler/version.js';
import { isBuiltInBase, resolveBase } from '../images/base/resolve.js';
import { sha256Digest } from '../images/descriptor.js';
import { imageConfig } from '../images/image-config.js';
import { imageLabels, imageRuntime, type BaseRuntime } from '../images/image-runtime.js';
import { ociPlatform } from '../images/platform.js';
import { parseSpecText } from '../spec/load.js';
import type { BuildSpec, Spec } from '../spec/schema.js';
import { baseSteps, frontendImageRef } from './base-steps.js';
import type { Gateway } from './gateway.js';
import { ATTESTATIONS_CAP, sbomAttestation, sbomFormatArg, sbomSubjectName } from './attestations.js';
import type { Result } from './gen/gateway_pb.js';
import { GO_PORTS } from './go-ports.js';
import { exec } from './llb/exec.js';
import { fileOp, type FileStep } from './llb/file.js';
import { imageSource, localSource, pbPlatform } from './llb/sources.js';
import { definition, type Output } from './llb/vertex.js';
import { buildArgs, labelOptions, type FrontendOptions } from './options.js';
import { baseAnnotationMetadata, resolveRemoteBaseInBuildKit, type RemoteBaseInBuildKit } from './remote-base.js';
import { exportsIndex, resultFor, type PlatformResult } from './result.js';

/** The Go toolchain image `go build` runs in, unless the build arg GO_IMAGE names another. */
export const DEFAULT_GO_IMAGE = 'docker.io/library/golang:1.23';
const GO_CACHE = '/root/.cache/go-build';
const GO_MOD_CACHE = '/go/pkg/mod';
const SOURCE_DIR = '/src';
const encoder = new TextEncoder();

/** Everything the build derives from BuildKit's options, before any graph is made. */
interface Request {
  spec: Spec;
  specFile: string;
  platforms: Platform[];
  buildPlatform: Platform;
  stamp: Stamp;
  goImage: string;
  args: Record<string, string>;
}

/** The CLI's stamp, with what git would say given as build args (git is not consulted inside BuildKit). */
function stampFrom(args: Record<string, string>): Stamp {
  const state = { ...NO_SOURCE_STATE, commit: args.REVISION || undefined, sourceUrl: args.SOURCE_URL || undefined };
  return makeStamp(
    state,
    { SOURCE_DATE_EPOCH: args.SOURCE_DATE_EPOCH },
    args.VERSION || undefined,
    'build arg VERSION',
  );
}

/** goci.yaml from the `dockerfile` local (its directory), as `docker build -f` names it. */
async function readSpec(gateway: Gateway, options: FrontendOptions): Promise<{ spec: Spec; file: string }> {
  const file = options.opts.filename ?? 'goci.yaml';
  const name = posix.basename(file);
  const source = localSource('dockerfile', {
    sessionId: options.sessionId,
    sharedKeyHint: name,
    includePatterns: [name],
  });
  const ref = await gateway.solve(definition(source));
  const text = new TextDecoder().decode(await gateway.readFile(ref, name));
  return { spec: parseSpecText(text, name, SOURCE_DIR), file: name };
}

/** .dockerignore patterns of the context, honoured the way docker build honours them. */
async function ignorePatterns(gateway: Gateway, options: FrontendOptions): Promise<string[]> {
  const source = localSource('context', {
    sessionId: options.sessionId,
    sharedKeyHint: '.dockerignore',
    includePatterns: ['.dockerignore'],
  });
  const ref = await gateway.solve(definition(source));
  const text = await gateway.readFile(ref, '.dockerignore').then(
    (bytes) => new TextDecoder().decode(bytes),
    () => '',
  );
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
}

async function readRequest(gateway: Gateway, options: FrontendOptions, workers: Platform[]): Promise<Request> {
  const { spec, file } = await readSpec(gateway, options);
  const args = buildArgs(options.opts);
  const buildPlatform = options.workerPlatforms[0] ?? workers[0] ?? { os: 'linux', arch: 'amd64' };
  const requested = options.opts.platform ? [options.opts.platform] : undefined;
  const platforms = requested
    ? resolvePlatforms(requested, GO_PORTS, 'platform', false)
    : [{ os: 'linux', arch: buildPlatform.arch, ...(buildPlatform.variant ? { variant: buildPlatform.variant } : {}) }];
  return {
    spec,
    specFile: file,
    platforms,
    buildPlatform,
    stamp: stampFrom(args),
    goImage: args.GO_IMAGE ?? DEFAULT_GO_IMAGE,
    args,
  };
}

/** One binary built for one target, in the Go image on the build platform (no emulation). */
function goBuild(
  request: Request,
  build: BuildSpec,
  target: Platform,
  context: Output,
  goImage: Output,
  goEnv: string[],
  moduleMode: 'module' | 'vendor' | 'gopath',
): Output {
  const cwd = posix.join(SOURCE_DIR, build.dir);
  const command = goBuildCommand({
    build,
    where: `${request.specFile}: ${build.path}`,
    platform: target,
    stamp: request.stamp,
    versionSettings: request.spec.version,
    cwd,
    moduleMode,
    // A context rarely carries .git, and the builder image may have no git: stamp from build args.
    buildvcs: build.buildvcs ?? 'false',
    processEnv: request.args,
  });
  const env = [
    ...goEnv.filter((entry) => !Object.keys(command.env).includes(entry.split('=')[0]!)),
    ...Object.entries(command.env).map(([name, value]) => `${name}=${value}`),
    `GOCACHE=${GO_CACHE}`,
    `GOMODCACHE=${GO_MOD_CACHE}`,
  ];
  const run = exec({
    root: goImage,
    args: ['go', ...commandLine(command, `/out/${build.binary}`)],
    env,
    cwd,
    mounts: [
      { kind: 'bind', dest: SOURCE_DIR, source: context, readonly: true },
      { kind: 'bind', dest: '/out', source: undefined, output: true },
      { kind: 'cache', dest: GO_CACHE, id: 'goci-go-build-cache' },
      { kind: 'cache', dest: GO_MOD_CACHE, id: 'goci-go-mod-cache' },
    ],
    network: 'none',
    platform: request.buildPlatform,
    name: `[goci] go build ${build.binary} for ${formatPlatform(target)}`,
  });
  return run.mounts['/out']!;
}

/** The image's base: files to copy for a built-in one, or a registry image to stack on; and its runtime defaults. */
interface FrontendBase extends BaseRuntime {
  steps: FileStep[];
  remote: RemoteBaseInBuildKit | undefined;
}

/**
 * The base named by build arg BASE (as `goci build --base`) or image.base. A built-in base is
 * resolved by the CLI's code, its files copied from goci's frontend image (base-steps.ts); a
 * registry base through BuildKit (remote-base.ts).
 */
async function baseOf(gateway: Gateway, request: Request, opts: Record<string, string>): Promise<FrontendBase> {
  const [name, where] = request.args.BASE
    ? [request.args.BASE, 'build arg BASE']
    : [request.spec.image.base, 'image.base'];
  if (!isBuiltInBase(name)) {
    const remote = await resolveRemoteBaseInBuildKit(gateway, name, request.platforms, where);
    return { steps: [], ...remote.runtime, remote };
  }
  const base = await resolveBase(name, where);
  return {
    steps: base.name === undefined ? [] : baseSteps(frontendImageRef(opts), request.buildPlatform, request.stamp.epoch),
    env: base.env,
    user: base.user,
    workingDir: base.workingDir,
    remote: undefined,
  };
}

/**
 * The build: for each target platform, `go build` per build in the Go image, the binaries read
 * back (their build info becomes the labels, as in the CLI), and an image filesystem of the
 * base, image.files and the binaries; plus the image config from the CLI's own code.
 */
export async function buildResult(
  gateway: Gateway,
  options: FrontendOptions,
  progress: { step: string } = { step: '' },
): Promise<Result> {
  progress.step = 'asking BuildKit for its capabilities';
  const pong = await gateway.ping();
  progress.step = 'reading goci.yaml';
  const request = await readRequest(
    gateway,
    options,
    pong.platforms.map((platform) => ({
      os: platform.OS,
      arch: platform.Architecture,
      ...(platform.Variant ? { variant: platform.Variant } : {}),
    })),
  );
  const { spec, stamp } = request;
  checkPathsStayInContext(spec, request.specFile);
  progress.step = 'reading the context';
  const excludePatterns = await ignorePatterns(gateway, options);
  const context = localSource('context', { sessionId: options.sessionId, sharedKeyHint: 'context', excludePatterns });
  const contextRef = await gateway.solve(definition(context));
  const goImage = imageSource(request.goImage, request.buildPlatform);
  const goConfig = await gateway.resolveImageConfig(request.goImage, pbPlatform(request.buildPlatform));
  const goEnv: string[] = goConfig.config.config?.Env ?? [
    'PATH=/usr/local/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
  ];
  const image = spec.image;
  const base = await baseOf(gateway, request, options.opts);
  const attestations = pong.frontendCaps.has(ATTESTATIONS_CAP);
  const sbomFormat = sbomFormatArg(request.args);
  const builds = image.binaries
    ? spec.builds.filter((build) => image.binaries!.includes(build.id) || image.binaries!.includes(build.binary))
    : spec.builds;
  const entrypoint =
    builds.find((build) => build.id === image.entrypoint || build.binary === image.entrypoint) ?? builds[0]!;
  const labels = labelOptions(options.opts);
  const moduleModes = new Map<string, 'module' | 'vendor' | 'gopath'>();
  for (const build of builds) {
    const dir = posix.join(build.dir);
    moduleModes.set(
      build.id,
      (await gateway.exists(contextRef, posix.join(dir, 'vendor/modules.txt')))
        ? 'vendor'
        : (await gateway.exists(contextRef, posix.join(dir, 'go.mod')))
          ? 'module'
          : 'gopath',
    );
  }
  // Every platform's solves are issued at once: BuildKit schedules them (and shares what they share).
  const results = await Promise.all(
    request.platforms.map(async (target): Promise<PlatformResult> => {
      const outputs = new Map<string, Output>();
      for (const build of builds)
        outputs.set(build.id, goBuild(request, build, target, context, goImage, goEnv, moduleModes.get(build.id)!));
      progress.step = `building ${entrypoint.binary} for ${formatPlatform(target)}`;
      const entryRef = await gateway.solve(definition(outputs.get(entrypoint.id)!));
      progress.step = `reading ${entrypoint.binary} for ${formatPlatform(target)}`;
      const entryBytes = Buffer.from(await gateway.readFile(entryRef, `/${entrypoint.binary}`));
      const report = inspectBuffer(entryBytes);
      if (target.os === 'linux' && !report.static)
        throw new GociError(
          'NOT_STATIC',
          `${entrypoint.binary} (${formatPlatform(target)}) is dynamically linked, so it cannot run on a scratch or distroless-static image`,
        );
      const steps: FileStep[] = [
        ...base.steps,
        ...image.files.map(
          (file): FileStep => ({
            kind: 'copy',
            from: context,
            src: posix.join('/', file.src),
            dest: file.dst,
            ...(file.mode === undefined ? {} : { mode: file.mode }),
            uid: file.uid,
            gid: file.gid,
            timestamp: stamp.epoch,
          }),
        ),
        { kind: 'mkdir', path: image.binaryDir, mode: 0o755, uid: 0, gid: 0, timestamp: stamp.epoch },
        ...builds.map(
          (build): FileStep => ({
            kind: 'copy',
            from: outputs.get(build.id)!,
            src: `/${build.binary}`,
            dest: `${image.binaryDir}/${build.binary}`,
            mode: 0o755,
            uid: 0,
            gid: 0,
            timestamp: stamp.epoch,
          }),
        ),
      ];
      const remoteBase = base.remote?.platforms.get(formatPlatform(target));
      const rootfs = fileOp(remoteBase?.rootfs, steps, `[goci] image ${formatPlatform(target)}`);
      progress.step = `assembling the ${formatPlatform(target)} image`;
      const ref = await gateway.solve(definition(rootfs));
      const config = imageConfig({
        platform: ociPlatform(target),
        runtime: {
          ...imageRuntime(image, base, entrypoint.binary),
          labels: { ...imageLabels(report, stamp, entrypoint.binary, image.labels), ...labels },
        },
        ...(remoteBase ? { inherited: remoteBase.inherited } : {}),
        layers: [],
        created: stamp.epoch,
      });
      const sbom =
        attestations && sbomFormat
          ? await sbomAttestation(
              gateway,
              sbomFormat,
              sbomSubjectName(image.repository ?? entrypoint.binary, stamp.version),
              target,
              { report, sha256: sha256Digest(entryBytes) },
              stamp.epoch,
            )
          : undefined;
      return {
        platform: target,
        ref,
        config: encoder.encode(JSON.stringify(config)),
        attestations: sbom ? [sbom] : [],
      };
    }),
  );
  progress.step = 'returning the result';
  // BuildKit >= 0.11 (the release that takes attestations) also takes annotations from the result.
  const metadata = base.remote && attestations ? baseAnnotationMetadata(base.remote, exportsIndex(results)) : {};
  return resultFor(results, pong.frontendCaps.has('proto.refarray'), metadata);
}
