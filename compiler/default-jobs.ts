import { availableParallelism } from 'node:os';

/**
 * go build spreads its compiles over every core itself but links on one, so with a target per
 * core the cores idle through each link; measured here, 3 targets on 2 cores: an incremental
 * build 0.94 s with 2 at once, 0.87 s with 3, a cold one the same within 2%.
 */
export function defaultJobs(): number {
  return Math.max(4, availableParallelism());
}
