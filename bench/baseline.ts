import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** One goci to measure: this checkout's, or the baseline's. */
export interface GociBuild {
  name: 'goci' | 'baseline';
  cli: string;
}

/**
 * The goci builds a bench measures: this checkout's, plus, with BENCH_BASELINE=DIR (a built
 * checkout of another revision, see scripts/bench-baseline.sh), that one too. Both are measured
 * in the same run, runs alternating, so a change is judged against the machine as it is now.
 */
export function gociBuilds(root: string): GociBuild[] {
  const ours: GociBuild = { name: 'goci', cli: join(root, 'lib', 'goci.cjs') };
  const dir = process.env.BENCH_BASELINE;
  if (!dir) return [ours];
  // Builds before the code cache (issue 12) have their bin as lib/goci.mjs.
  const cli = ['goci.cjs', 'goci.mjs'].map((name) => join(resolve(dir), 'lib', name)).find((path) => existsSync(path));
  if (!cli)
    throw new Error(`BENCH_BASELINE=${dir} holds no lib/goci.cjs: build it first (bash scripts/bench-baseline.sh REV)`);
  return [ours, { name: 'baseline', cli }];
}

/** `goci 0.912s vs baseline 0.900s (×1.013)`: how this checkout compares, ×>1 meaning slower. */
export function againstBaseline(ours: number, baseline: number | undefined, digits = 3): string {
  if (baseline === undefined) return '';
  return `  vs baseline ${baseline.toFixed(digits)}s (×${(ours / baseline).toFixed(3)})`;
}

/** Alternates the order of the measured builds run by run, so neither always goes first. */
export function inTurn<T>(items: readonly T[], run: number): T[] {
  return run % 2 === 0 ? [...items] : [...items].reverse();
}
