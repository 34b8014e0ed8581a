import { resolve } from 'node:path';
import { defaultJobs } from '../compiler/default-jobs.js';
import { reportingHostBuilder } from './reporting-builder.js';
import type { BuiltImage } from './built-image.js';
import type { Progress, ProgressEvent } from './progress.js';
import { waitReporter } from './progress.js';
import { runBuild } from './run-build.js';

/** What `build` makes and where it writes it; every field is optional, the defaults are `goci build`'s. */
export interface BuildOptions {
  /** Directories of Go main packages (or of a goci.yaml); default: the current directory. */
  dirs?: string[];
  /** goci.yaml to use instead of `<dir>/goci.yaml`. */
  config?: string;
  /** Widens the build context goci.yaml's paths may reach (default: goci.yaml's directory). */
  context?: string;
  /** Target platforms, `os/arch[/variant]`; "all" = Go's first-class ports. */
  platforms?: string[];
  /** The version to stamp (default: derived from git tags). */
  version?: string;
  buildvcs?: 'true' | 'false' | 'auto';
  /** Output directory (default `dist`): binaries in `<dist>/bin`, the layout in `<dist>/oci`. */
  dist?: string;
  /** Targets built at once (default: the number of cores, at least 4). */
  jobs?: number;
  /** Reuse binaries from goci's cache when every input is unchanged (default true). */
  cache?: boolean;
  /** The environment go build and templates see (default: process.env). */
  env?: NodeJS.ProcessEnv;
  /** Manifest media types (default oci). */
  format?: 'oci' | 'docker';
  /** static (default), static:root, scratch, or a registry image reference. */
  base?: string;
  repository?: string;
  entrypoint?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  /** Environment variables of the image's config. */
  imageEnv?: Record<string, string>;
  user?: string;
  workdir?: string;
  ports?: string[];
  /** Default arguments (Cmd) after the entrypoint. */
  args?: string[];
  /** Tags to record (default: the version; when pushing, its release set 1.2.3, 1.2, 1, latest). */
  tags?: string[];
  /** SBOM attached to each platform image (default spdx). */
  sbom?: 'spdx' | 'cyclonedx' | 'none';
  /** OCI layout to write (default `<dist>/oci`, unless only pushing). */
  ociLayout?: string;
  /** Repository to push the multi-arch image to, e.g. ghcr.io/acme/api. */
  push?: string;
  /** Also write one tar that docker load, skopeo and umoci read. */
  tarball?: string;
  /** Load the image into the local Docker daemon. */
  load?: boolean;
  /** The platform `load` and `tarball`'s docker manifest use (default: this machine's). */
  loadPlatform?: string;
  /** Registries that may be reached over plain HTTP (loopback always may). */
  insecureRegistries?: string[];
  /** Told of each step as it happens: compiles, images, sinks, registry waits. */
  onProgress?: (event: ProgressEvent) => void;
}

export interface BuildResult {
  images: BuiltImage[];
}

/** `{key: value}` as the `key=value` items the image settings check (the same checks as the flags'). */
function pairs(values: Record<string, string> | undefined): string[] | undefined {
  return values && Object.entries(values).map(([key, value]) => `${key}=${value}`);
}

/**
 * Builds images as `goci build` does: compiles every target with the host's `go build`,
 * assembles one multi-platform image per goci.yaml, and writes it to its sinks (the OCI
 * layout, a registry, a tarball, the docker daemon). Throws a GociError (code, message, hint)
 * for anything a user can fix; never exits the process.
 */
export async function build(options: BuildOptions = {}): Promise<BuildResult> {
  const progress: Progress = { report: (event) => options.onProgress?.(event), finish: () => undefined };
  const dist = resolve(options.dist ?? 'dist');
  const images = await runBuild({
    compile: {
      packages: options.dirs ?? [],
      config: options.config,
      platforms: options.platforms,
      version: options.version,
      buildvcs: options.buildvcs,
      env: options.env ?? process.env,
      context: options.context,
    },
    settings: {
      dist,
      format: options.format ?? 'oci',
      sbom: options.sbom ?? 'spdx',
      base: options.base,
      repository: options.repository,
      entrypoint: options.entrypoint,
      label: pairs(options.labels),
      annotation: pairs(options.annotations),
      env: pairs(options.imageEnv),
      user: options.user,
      workdir: options.workdir,
      port: options.ports,
      arg: options.args,
      tag: options.tags,
      ociLayout: options.ociLayout,
      push: options.push,
      tarball: options.tarball,
      load: options.load,
      loadPlatform: options.loadPlatform,
    },
    builder: reportingHostBuilder(
      { dist, jobs: () => options.jobs ?? defaultJobs(), cache: options.cache ?? true },
      progress,
    ),
    progress,
    registry: {
      insecureRegistries: options.insecureRegistries ?? [],
      verbose: undefined,
      onWait: waitReporter(() => progress),
    },
  });
  return { images: images ?? [] };
}
