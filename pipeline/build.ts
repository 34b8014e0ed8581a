import { resolve } from 'node:path';
import { defaultJobs } from '../compiler/default-jobs.js';
import { reportingHostBuilder } from './reporting-builder.js';
import type { BuildOptions, BuildResult } from './build-options.js';
import type { Progress } from './progress.js';
import { uploadReporter, waitReporter } from './progress.js';
import { runBuild } from './run-build.js';

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
      onUploaded: uploadReporter(() => progress),
    },
  });
  return { images: images ?? [] };
}
