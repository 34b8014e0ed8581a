import { GociError } from '../common/errors.js';
import { parsePlatform } from '../compiler/platform.js';
import type { Platform } from '../oci/platform.js';

/** What BuildKit tells a frontend through its environment. */
export interface FrontendOptions {
  /** BUILDKIT_FRONTEND_OPT_<n>=<key>=<value>, by key. */
  opts: Record<string, string>;
  sessionId: string;
  /** Platforms the workers can run, from BUILDKIT_WORKERS; the first is the build platform. */
  workerPlatforms: Platform[];
}

const OPT_PREFIX = 'BUILDKIT_FRONTEND_OPT_';

interface WorkerJson {
  platforms?: { architecture?: string; os?: string; variant?: string }[];
  Platforms?: { Architecture?: string; OS?: string; Variant?: string }[];
}

/** BuildKit v0.8 writes BUILDKIT_WORKERS with Go's capitalised keys; newer ones lowercase. Both are read. */
function workerPlatforms(raw: string | undefined): Platform[] {
  if (!raw) return [];
  const workers = JSON.parse(raw) as WorkerJson[];
  return workers
    .flatMap((worker) => [
      ...(worker.platforms ?? []).map((platform) => ({
        os: platform.os ?? '',
        arch: platform.architecture ?? '',
        variant: platform.variant,
      })),
      ...(worker.Platforms ?? []).map((platform) => ({
        os: platform.OS ?? '',
        arch: platform.Architecture ?? '',
        variant: platform.Variant,
      })),
    ])
    .filter((platform) => platform.os && platform.arch)
    .map((platform) =>
      parsePlatform(
        `${platform.os}/${platform.arch}${platform.variant ? `/${platform.variant}` : ''}`,
        'BUILDKIT_WORKERS',
      ),
    );
}

export function readFrontendOptions(env: NodeJS.ProcessEnv): FrontendOptions {
  const opts: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith(OPT_PREFIX) || value === undefined) continue;
    const equals = value.indexOf('=');
    if (equals < 0) opts[value] = '';
    else opts[value.slice(0, equals)] = value.slice(equals + 1);
  }
  const sessionId = env.BUILDKIT_SESSION_ID;
  if (!sessionId)
    throw new GociError('BAD_ARGUMENT', 'BUILDKIT_SESSION_ID is not set: goci frontend runs inside BuildKit', {
      hint: 'use it through docker build with a # syntax= line, not directly',
    });
  return { opts, sessionId, workerPlatforms: workerPlatforms(env.BUILDKIT_WORKERS) };
}

/** `build-arg:NAME` options. */
export function buildArgs(opts: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(opts)
      .filter(([key]) => key.startsWith('build-arg:'))
      .map(([key, value]) => [key.slice('build-arg:'.length), value]),
  );
}

/** `label:KEY` options (docker build --label). */
export function labelOptions(opts: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(opts)
      .filter(([key]) => key.startsWith('label:'))
      .map(([key, value]) => [key.slice('label:'.length), value]),
  );
}
