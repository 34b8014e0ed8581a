import type { OciPlatform } from './descriptor.js';
import { rfc3339 } from '../common/time.js';

/** The runtime part of an image config (`config` in the JSON): what the container starts as. */
export interface RuntimeConfig {
  entrypoint: string[];
  cmd: string[];
  env: string[];
  user: string;
  workingDir: string;
  exposedPorts: string[];
  /** Mount points (Volumes), sorted when written. */
  volumes: string[];
  stopSignal: string | undefined;
  labels: Record<string, string>;
}

/** A config that sets nothing: no entrypoint, no env, root, `/`. */
export const EMPTY_RUNTIME: Readonly<RuntimeConfig> = {
  entrypoint: [],
  cmd: [],
  env: [],
  user: '',
  workingDir: '',
  exposedPorts: [],
  volumes: [],
  stopSignal: undefined,
  labels: {},
};

/** One layer as the config sees it, with the history line that explains it. */
export interface ConfigLayer {
  diffId: string;
  createdBy: string;
  comment?: string;
}

/** History entries of a base image, kept as the base wrote them (`empty_layer` ones included). */
export type InheritedHistory = { created?: string; created_by?: string; comment?: string; empty_layer?: boolean }[];

export interface ImageConfigInput {
  platform: OciPlatform;
  runtime: RuntimeConfig;
  /** A remote base's diff_ids and history, which come first. */
  inherited?: { diffIds: string[]; history: InheritedHistory };
  layers: ConfigLayer[];
  /** Unix seconds (SOURCE_DATE_EPOCH); every timestamp in the image is this one. */
  created: number;
}

export { rfc3339 } from '../common/time.js';

/**
 * The image config JSON (OCI image-spec config.md). Fields with no value are left out
 * rather than written empty, as docker and BuildKit do, so configs compare cleanly.
 */
export function imageConfig(input: ImageConfigInput): Record<string, unknown> {
  const { runtime } = input;
  const created = rfc3339(input.created);
  const config: Record<string, unknown> = {};
  if (runtime.user) config.User = runtime.user;
  if (runtime.exposedPorts.length > 0)
    config.ExposedPorts = Object.fromEntries(runtime.exposedPorts.map((port) => [port, {}]));
  if (runtime.env.length > 0) config.Env = runtime.env;
  if (runtime.entrypoint.length > 0) config.Entrypoint = runtime.entrypoint;
  if (runtime.cmd.length > 0) config.Cmd = runtime.cmd;
  if (runtime.volumes.length > 0)
    config.Volumes = Object.fromEntries([...runtime.volumes].sort().map((volume) => [volume, {}]));
  if (runtime.workingDir) config.WorkingDir = runtime.workingDir;
  if (Object.keys(runtime.labels).length > 0) config.Labels = runtime.labels;
  if (runtime.stopSignal) config.StopSignal = runtime.stopSignal;
  return {
    created,
    architecture: input.platform.architecture,
    os: input.platform.os,
    ...(input.platform.variant ? { variant: input.platform.variant } : {}),
    config,
    rootfs: {
      type: 'layers',
      diff_ids: [...(input.inherited?.diffIds ?? []), ...input.layers.map((layer) => layer.diffId)],
    },
    history: [
      ...(input.inherited?.history ?? []),
      ...input.layers.map((layer) => ({
        created,
        created_by: layer.createdBy,
        ...(layer.comment ? { comment: layer.comment } : {}),
      })),
    ],
  };
}
