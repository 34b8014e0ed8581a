import { posix } from 'node:path';
import { found } from '../common/found.js';
import { checkedBinary, type Binary } from '../compiler/checked-binary.js';
import { commandLine } from '../compiler/command.js';
import { checkPathsStayInContext } from '../compiler/context.js';
import { goDirectiveRelease } from '../compiler/module.js';
import { NO_SOURCE_STATE } from '../compiler/git.js';
import type { Target } from '../compiler/plan.js';
import { formatPlatform, resolvePlatforms } from '../compiler/platform.js';
import type { Platform } from '../oci/platform.js';
import { makeStamp, type Stamp } from '../compiler/version.js';
import { isBuiltInBase, resolveBase } from '../images/base/resolve.js';
import { imageConfig } from '../oci/image-config.js';
import { planImage, type ImagePlan, type PlatformPlan } from '../images/image-plan.js';
import { chooseImage } from '../spec/image-builds.js';
import type { BaseRuntime } from '../images/image-runtime.js';
import { ociPlatform } from '../oci/platform.js';
import { parseSpecText } from '../spec/load.js';
import type { ImageSpec, Spec, VersionFormat } from '../spec/schema.js';
import { baseSteps, frontendImageRef } from './base-steps.js';
import { findContextFiles, type LlbFile } from './context-files.js';
import type { Gateway } from './gateway.js';
import {
  ATTESTATIONS_CAP,
  provenanceArg,
  provenanceAttestation,
  recordedBuildArgs,
  sbomAttestation,
  sbomFormatArg,
  sbomSubjectName,
} from './attestations.js';
import { provenanceBase, provenancePredicate } from '../images/provenance.js';
import { GociError } from '../common/errors.js';
import type { Result } from './gen/gateway_pb.js';
import { GO_PORTS } from './go-ports.js';
import { layerSteps } from './layer-steps.js';
import { exec } from './llb/exec.js';
import { fileOp, type FileStep } from './llb/file.js';
import { imageSource, localSource, pbPlatform } from './llb/sources.js';
import { definition, type Output } from './llb/vertex.js';
import { buildArgs, labelOptions, type FrontendOptions } from './options.js';
import { baseAnnotationMetadata, resolveRemoteBaseInBuildKit, type RemoteBaseInBuildKit } from './remote-base.js';
import { exportsIndex, resultFor, type PlatformResult } from './result.js';
import { frontendTargets, SOURCE_DIR, type TargetRequest } from './targets.js';

/** The Go image when neither the build arg GO_IMAGE nor the module's go directive names one. */
export const DEFAULT_GO_IMAGE = 'docker.io/library/golang:1.23';
const GO_CACHE = '/root/.cache/go-build';
const GO_MOD_CACHE = '/go/pkg/mod';
const encoder = new TextEncoder();

/** Everything the build derives from BuildKit's options, before any graph is made. */
interface Request extends TargetRequest {
  specFile: string;
  /** The image of goci.yaml this build makes (docker build --target chooses among `images:`). */
  image: ImageSpec;
  buildPlatform: Platform;
  /** Build arg GO_IMAGE; undefined: the golang image of the module's go directive. */
  goImage: string | undefined;
}

/** The CLI's stamp, with what git would say given as build args (git is not consulted inside BuildKit). */
function stampFrom(args: Record<string, string>, format: VersionFormat): Stamp {
  const state = { ...NO_SOURCE_STATE, commit: args.REVISION || undefined, sourceUrl: args.SOURCE_URL || undefined };
  return makeStamp(
    state,
    { SOURCE_DATE_EPOCH: args.SOURCE_DATE_EPOCH },
    args.VERSION || undefined,
    'build arg VERSION',
    format,
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

/**
 * What the context never needs to send: git's history (the stamp comes from build args) and
 * goci's own output directory. They come first, so a .dockerignore can take them back (`!dist`).
 */
const DEFAULT_CONTEXT_EXCLUDES = ['.git', '**/.git', 'dist'];

/** .dockerignore patterns of the context, after the default ones, honoured the way docker build honours them. */
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
  const patterns = text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
  return [...DEFAULT_CONTEXT_EXCLUDES, ...patterns];
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
    image: chooseImage(spec, options.opts.target, '--target'),
    platforms,
    buildPlatform,
    stamp: stampFrom(args, spec.version.format),
    goImage: args.GO_IMAGE || undefined,
    args,
  };
}

/** One target's `go build` (the compiler's command line) in the Go image on the build platform (no emulation). */
function goBuild(request: Request, target: Target, context: Output, go: GoImage): Output {
  const { command } = target;
  const env = [
    ...go.env.filter((entry) => !Object.keys(command.env).includes(entry.slice(0, entry.indexOf('=')))),
    ...Object.entries(command.env).map(([name, value]) => `${name}=${value}`),
    `GOCACHE=${GO_CACHE}`,
    `GOMODCACHE=${GO_MOD_CACHE}`,
  ];
  const run = exec({
    root: go.image,
    args: ['go', ...commandLine(command, `/out/${target.binary}`)],
    env,
    cwd: command.cwd,
    mounts: [
      { kind: 'bind', dest: SOURCE_DIR, source: context, readonly: true },
      { kind: 'bind', dest: '/out', source: undefined, output: true },
      { kind: 'cache', dest: GO_CACHE, id: 'goci-go-build-cache' },
      { kind: 'cache', dest: GO_MOD_CACHE, id: 'goci-go-mod-cache' },
    ],
    network: 'none',
    platform: request.buildPlatform,
    name: `[goci] go build ${target.binary} for ${formatPlatform(target.platform)}`,
  });
  return found(run.mounts['/out'], 'the /out mount of go build');
}

/** The Go toolchain image and its environment (PATH to go), resolved once for every go build. */
interface GoImage {
  image: Output;
  env: string[];
}

/** The oldest Go the frontend's command line runs on: -buildvcs came in Go 1.18. */
const OLDEST_GO_RELEASE = '1.18';

/**
 * The official Go image of the release the (first) module's go directive names, so a module
 * built by the frontend gets the Go it says it needs (`go 1.21` → golang:1.21); an older
 * directive (a minimum before Go 1.21) gets Go 1.18, the oldest goci's command line runs on.
 */
async function moduleGoImage(gateway: Gateway, contextRef: string, targets: Target[]): Promise<string> {
  const root = targets.find((target) => target.moduleRoot !== undefined)?.moduleRoot;
  if (root === undefined) return DEFAULT_GO_IMAGE;
  const goMod = await gateway.readFile(contextRef, posix.join('/', posix.relative(SOURCE_DIR, root), 'go.mod')).then(
    (bytes) => new TextDecoder().decode(bytes),
    () => '',
  );
  const release = goDirectiveRelease(goMod);
  if (release === undefined) return DEFAULT_GO_IMAGE;
  return `docker.io/library/golang:${newerRelease(release, OLDEST_GO_RELEASE)}`;
}

/** The newer of two major.minor releases. */
export function newerRelease(left: string, right: string): string {
  const [leftMajor = 0, leftMinor = 0] = left.split('.').map(Number);
  const [rightMajor = 0, rightMinor = 0] = right.split('.').map(Number);
  return leftMajor > rightMajor || (leftMajor === rightMajor && leftMinor >= rightMinor) ? left : right;
}

async function goImageOf(gateway: Gateway, request: Request, name: string): Promise<GoImage> {
  const config = await gateway.resolveImageConfig(name, pbPlatform(request.buildPlatform));
  return {
    image: imageSource(name, request.buildPlatform),
    env: config.config.config?.Env ?? [
      'PATH=/usr/local/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    ],
  };
}

/**
 * One target built, read back and checked with the CLI's checks (compiler/verify.ts): the
 * binary knows its Target and is copied into the image from the go build output.
 */
async function builtBinary(
  gateway: Gateway,
  target: Target,
  output: Output,
  progress: { step: string },
): Promise<Binary<LlbFile>> {
  const shown = `${target.binary} for ${formatPlatform(target.platform)}`;
  progress.step = `building ${shown}`;
  const ref = await gateway.solve(definition(output));
  progress.step = `reading ${shown}`;
  const path = `/${target.binary}`;
  const bytes = Buffer.from(await gateway.readFile(ref, path));
  return checkedBinary(target, bytes, { from: output, path });
}

/**
 * The base named by build arg BASE (as `goci build --base`) or image.base. A built-in base is
 * resolved by the CLI's code, its files copied from goci's frontend image (base-steps.ts); a
 * registry base through BuildKit (remote-base.ts).
 */
async function baseOf(gateway: Gateway, request: Request, opts: Record<string, string>): Promise<FrontendBase> {
  const [name, where] = request.args.BASE
    ? [request.args.BASE, 'build arg BASE']
    : [request.image.base, `${request.image.path}.base`];
  if (!isBuiltInBase(name)) {
    const remote = await resolveRemoteBaseInBuildKit(gateway, name, request.platforms, where);
    return { steps: [], ...remote.runtime, remote, builtIn: undefined };
  }
  const base = await resolveBase(name, where);
  return {
    steps: base.name === undefined ? [] : baseSteps(frontendImageRef(opts), request.buildPlatform, request.stamp.epoch),
    env: base.env,
    user: base.user,
    workingDir: base.workingDir,
    remote: undefined,
    builtIn: base.name,
  };
}

/**
 * The image's base: the steps of its layer (none for scratch or a registry base), or the
 * registry image to stack on; and its runtime defaults.
 */
interface FrontendBase extends BaseRuntime {
  steps: FileStep[];
  remote: RemoteBaseInBuildKit | undefined;
  /** A built-in base's name (undefined: scratch), as provenance names it. */
  builtIn: string | undefined;
}

/**
 * One platform's filesystem as the CLI layers it: the base, then image.files, then the
 * binaries, each one FileOp on the one before (one layer each); an empty layer is left out, as
 * the CLI leaves it out.
 */
function imageLayers(
  base: FrontendBase,
  plan: ImagePlan<LlbFile>,
  image: PlatformPlan<LlbFile>,
  shown: string,
): Output | undefined {
  const layers: { steps: FileStep[]; name: string }[] = [
    { steps: base.steps, name: `[goci] base ${shown}` },
    { steps: layerSteps(plan.fileEntries, plan.epoch), name: `[goci] image.files ${shown}` },
    { steps: layerSteps(image.binaryEntries, plan.epoch), name: `[goci] binaries ${shown}` },
  ];
  // A registry base's own layers come first, as its image: the goci layers stack on its filesystem.
  let rootfs = base.remote?.platforms.get(shown)?.rootfs;
  for (const layer of layers) if (layer.steps.length > 0) rootfs = fileOp(rootfs, layer.steps, layer.name);
  return rootfs;
}

/**
 * The image config from the CLI's own code: the plan's runtime and labels, `docker build --label`
 * over them, a registry base's history and diff_ids first.
 */
function configOf(
  plan: ImagePlan<LlbFile>,
  image: PlatformPlan<LlbFile>,
  labels: Record<string, string>,
  base: FrontendBase,
): Uint8Array {
  const remote = base.remote?.platforms.get(formatPlatform(image.platform));
  const config = imageConfig({
    platform: ociPlatform(image.platform),
    runtime: { ...plan.runtime, labels: { ...image.labels, ...labels } },
    ...(remote ? { inherited: remote.inherited } : {}),
    layers: [],
    created: plan.epoch,
  });
  return encoder.encode(JSON.stringify(config));
}

/**
 * The build, through the CLI's stages: the compiler's targets for the requested platforms, each
 * `go build` in the Go image (all solves issued at once: BuildKit schedules them), every binary
 * read back and checked, planImage deciding the image, and its entries as three stacked FileOps.
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
  const { spec } = request;
  checkPathsStayInContext(spec, request.specFile);
  progress.step = 'reading the context';
  const excludePatterns = await ignorePatterns(gateway, options);
  const context = localSource('context', { sessionId: options.sessionId, sharedKeyHint: 'context', excludePatterns });
  const contextRef = await gateway.solve(definition(context));
  const targets = await frontendTargets(gateway, contextRef, request);
  const files = await findContextFiles(gateway, contextRef, context, spec, request.image);
  const base = await baseOf(gateway, request, options.opts);
  const attestations = pong.frontendCaps.has(ATTESTATIONS_CAP);
  const sbomFormat = sbomFormatArg(request.args);
  const withProvenance = provenanceArg(request.args);
  if (withProvenance && !attestations)
    throw new GociError(
      'BAD_ARGUMENT',
      'build arg PROVENANCE=true: this BuildKit takes no attestations from a frontend',
      {
        hint: 'build with BuildKit v0.11 or later (docker buildx, buildctl), or leave PROVENANCE out',
      },
    );
  const go = await goImageOf(gateway, request, request.goImage ?? (await moduleGoImage(gateway, contextRef, targets)));
  const binaries = await Promise.all(
    targets.map((target) => builtBinary(gateway, target, goBuild(request, target, context, go), progress)),
  );
  const plan = planImage({ spec, image: request.image, binaries, base, files });
  const labels = labelOptions(options.opts);
  const results = await Promise.all(
    plan.platforms.map(async (image): Promise<PlatformResult> => {
      const shown = formatPlatform(image.platform);
      progress.step = `assembling the ${shown} image`;
      const rootfs = imageLayers(base, plan, image, shown);
      const ref = await gateway.solve(definition(found(rootfs, `the ${shown} image's filesystem`)));
      // The CLI's SBOM of this platform, where BuildKit takes attestations (>= 0.11).
      const sbom =
        attestations && sbomFormat
          ? await sbomAttestation(
              gateway,
              sbomFormat,
              sbomSubjectName(plan.repository, request.stamp.version),
              image.platform,
              image.entrypoint,
              plan.epoch,
            )
          : undefined;
      // The CLI's provenance (--provenance), where BuildKit takes attestations; BuildKit compressed the layers.
      const provenance = withProvenance
        ? await provenanceAttestation(
            gateway,
            provenancePredicate({
              platform: shown,
              specFile: request.specFile,
              directory: '.',
              imageFlags: {},
              stamp: request.stamp,
              binary: image.entrypoint.report,
              base: provenanceBase(base.remote, base.builtIn),
              sbom: sbomFormat ?? 'none',
              builder: { kind: 'frontend', buildArgs: recordedBuildArgs(request.args) },
            }),
            image.platform,
            plan.epoch,
          )
        : undefined;
      return {
        platform: image.platform,
        ref,
        config: configOf(plan, image, labels, base),
        attestations: [sbom, provenance].filter((item) => item !== undefined),
      };
    }),
  );
  progress.step = 'returning the result';
  // BuildKit >= 0.11 (the release that takes attestations) also takes annotations from the result.
  const metadata = base.remote && attestations ? baseAnnotationMetadata(base.remote, exportsIndex(results)) : {};
  return resultFor(results, pong.frontendCaps.has('proto.refarray'), metadata);
}
