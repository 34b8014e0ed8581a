import type { Binary } from './checked-binary.js';
import type { StagedBinaries } from './compile.js';
import type { Plan } from './plan.js';

/**
 * Runs a plan's `go build` commands and checks every binary. The host's `go build` is one
 * implementation (hostBuilder); the BuildKit frontend's LLB exec is the other. undefined: the
 * builder built nothing on purpose (a dry run that printed the commands).
 */
export interface Builder {
  /** `onBinary` hears of each binary as soon as it is built and checked, while other targets may still build. */
  build(plan: Plan, onBinary?: (binary: Binary<string>) => void): Promise<StagedBinaries | undefined>;
}
