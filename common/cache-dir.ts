import { homedir } from 'node:os';
import { join } from 'node:path';

/** The user's cache home: $XDG_CACHE_HOME, else ~/.cache. */
export function userCacheHome(env: NodeJS.ProcessEnv = process.env): string {
  return env.XDG_CACHE_HOME || join(env.HOME || homedir(), '.cache');
}

/** goci's cache: $GOCI_CACHE_DIR, else $XDG_CACHE_HOME/goci, else ~/.cache/goci. Only ever a speed-up. */
export function gociCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.GOCI_CACHE_DIR) return env.GOCI_CACHE_DIR;
  return join(userCacheHome(env), 'goci');
}

/** Each of goci's caches (layers, binaries) keeps its most recently used entries up to this many bytes. */
export function cacheMaxBytes(env: NodeJS.ProcessEnv = process.env): number {
  return Number(env.GOCI_CACHE_MAX_BYTES) || 2 * 1024 ** 3;
}
