import type { BinaryReport } from '../compiler/binary/types.js';
import type { Stamp } from '../compiler/version.js';
import type { ImageSpec } from '../spec/schema.js';
import type { RuntimeConfig } from '../oci/image-config.js';
import { metadataLabels } from './labels.js';

/** What a base contributes to how a container starts. */
export interface BaseRuntime {
  env: string[];
  user: string;
  workingDir: string;
}

/**
 * How the container starts, from goci.yaml's image section over the base's defaults. The CLI and
 * the BuildKit frontend both call this, so the same goci.yaml gives the same config either way.
 */
export function imageRuntime(
  image: ImageSpec,
  base: BaseRuntime,
  entrypointBinary: string,
): Omit<RuntimeConfig, 'labels'> {
  return {
    entrypoint: [`${image.binaryDir}/${entrypointBinary}`],
    cmd: image.args,
    env: mergeEnv(base.env, image.env),
    user: image.user ?? base.user,
    workingDir: image.workdir ?? base.workingDir,
    exposedPorts: image.ports,
    volumes: image.volumes,
    stopSignal: image.stopSignal,
  };
}

/** The image's labels: build metadata from the entrypoint binary itself, then the user's, which win. */
export function imageLabels(
  binary: BinaryReport,
  stamp: Stamp,
  title: string,
  userLabels: Record<string, string>,
): Record<string, string> {
  return { ...metadataLabels({ binary, stamp, title, sourceUrl: stamp.sourceUrl }), ...userLabels };
}

/** Base env first, the image's own after; a name set in both takes the image's value in the base's place. */
export function mergeEnv(baseEnv: string[], env: Record<string, string>): string[] {
  const merged = new Map<string, string>(
    baseEnv.map((entry) => [entry.slice(0, entry.indexOf('=')), entry.slice(entry.indexOf('=') + 1)]),
  );
  for (const [name, value] of Object.entries(env)) merged.set(name, value);
  return [...merged].map(([name, value]) => `${name}=${value}`);
}
