/**
 * The inner loop, quickly: examples/server, three platforms, one Go line changed before each
 * run, `goci build --push` (scratch base, no SBOM, --buildvcs false) to a loopback
 * docker-registry, and `goci compile` alone, against the floor (the same three `go build`
 * commands in parallel, no image); then a warm build (nothing changed). Every contender is
 * primed once (cold, not timed), then runs alternate; medians of BENCH_RUNS (default 5).
 * bench:compare measures the same scenarios with cold caches per run and the Dockerfiles; this
 * one answers "did the loop get faster" in a few minutes.
 *
 *   npm run bench:loop             (BENCH_BASELINE=DIR also measures another goci build)
 */
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startRegistry } from '../test/support/registry.js';
import { againstBaseline, gociBuilds, inTurn, type GociBuild } from './baseline.js';
import { changeOneLine, floorCommands, runFloor } from './floor.js';
import { childrenCpuSeconds, median, processCpuSeconds, timeProcess } from './measure.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BUILDS = gociBuilds(ROOT);
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const PLATFORMS = ['linux/amd64', 'linux/arm64', 'linux/arm/v7'];
const VERSION = '1.0.0';
const TARGETS = { build: 1.3, compile: 1.1 };

type Measure = 'floor' | `${GociBuild['name']} ${'build' | 'compile' | 'warm'}`;

const work = await mkdtemp(join(tmpdir(), 'goci-bench-loop-'));
const registry = await startRegistry();
try {
  const source = join(work, 'server');
  await cp(join(ROOT, 'examples', 'server'), source, { recursive: true });
  const env = (name: string): NodeJS.ProcessEnv => ({
    ...process.env,
    GOCACHE: join(work, `gocache-${name}`),
    GOCI_CACHE_DIR: join(work, `gocicache-${name}`),
  });
  const commands = await floorCommands(BUILDS[0]!.cli, source, PLATFORMS, VERSION, join(work, 'floor-plan'));
  const common = ['.', '--platform', PLATFORMS.join(','), '--version', VERSION, '--buildvcs', 'false'];
  const gociRun = (build: GociBuild, what: 'build' | 'compile'): Promise<number> => {
    const args =
      what === 'build'
        ? ['build', ...common, '--base', 'scratch', '--sbom', 'none', '--push', `${registry.host}/bench/${build.name}`]
        : ['compile', ...common];
    return timeProcess(process.execPath, [build.cli, ...args, '--dist', join(work, `dist-${build.name}`)], {
      cwd: source,
      env: env(build.name),
    });
  };
  const floorRun = async (): Promise<number> => {
    const started = process.hrtime.bigint();
    await runFloor(commands, join(work, 'floor-out'), env('floor'));
    return Number(process.hrtime.bigint() - started) / 1e9;
  };

  // Primed once: Go's build cache holds the standard library and the packages for every platform.
  await floorRun();
  for (const build of BUILDS) await gociRun(build, 'build');

  const samples = new Map<Measure, number[]>();
  const add = (measure: Measure, seconds: number): void => {
    samples.set(measure, [...(samples.get(measure) ?? []), seconds]);
  };
  // CPU seconds of each run: the processes it started (go's compilers and linker included) and the registry's.
  const cpu = new Map<Measure, number[]>();
  const cpuNow = async (): Promise<number> => (await childrenCpuSeconds()) + (await processCpuSeconds(registry.pid));
  const measure = async (name: Measure, run: () => Promise<number>): Promise<void> => {
    const before = await cpuNow();
    add(name, await run());
    cpu.set(name, [...(cpu.get(name) ?? []), (await cpuNow()) - before]);
  };
  let step = 0;
  const incremental = [
    { name: 'floor' as const, run: floorRun },
    ...BUILDS.flatMap((build) => [
      { name: `${build.name} build` as const, run: () => gociRun(build, 'build') },
      { name: `${build.name} compile` as const, run: () => gociRun(build, 'compile') },
    ]),
  ];
  for (let run = 0; run < RUNS; run++) {
    for (const contender of inTurn(incremental, run)) {
      await changeOneLine(source, ++step);
      await measure(contender.name, contender.run);
    }
    // Warm is a rerun with nothing changed since this build's own last run: the first run catches up
    // with the line the other contenders changed, the second is measured.
    for (const build of inTurn(BUILDS, run)) {
      await gociRun(build, 'build');
      add(`${build.name} warm`, await gociRun(build, 'build'));
    }
  }
  await measure('floor', floorRun);
  const of = (measure: Measure): number | undefined => {
    const values = samples.get(measure);
    return values ? median(values) : undefined;
  };
  const floor = of('floor')!;
  for (const [measure, values] of samples)
    console.log(`  ${measure}: ${values.map((value) => value.toFixed(2)).join(' ')}`);
  console.log(`bench:loop: examples/server, ${PLATFORMS.join(',')}, one line changed per run, median of ${RUNS}`);
  console.log(`floor (go build ×3 in parallel)  ${floor.toFixed(3)}s`);
  for (const what of ['build', 'compile', 'warm'] as const) {
    const ours = of(`goci ${what}`)!;
    const baseline = of(`baseline ${what}`);
    const label =
      what === 'build' ? 'incremental build --push' : what === 'compile' ? 'incremental compile' : 'warm build --push';
    const target = what === 'warm' ? '' : ` (target ≤ ${TARGETS[what]})`;
    const baselineRatio = baseline === undefined ? '' : `, baseline ${(baseline / floor).toFixed(2)}× floor`;
    console.log(
      `${label.padEnd(26)} goci ${ours.toFixed(3)}s = ${(ours / floor).toFixed(2)}× floor${target}${baselineRatio}${againstBaseline(ours, baseline)}`,
    );
  }
  // No schedule ends before the CPU work it holds, spread over every core, is done: a bound on the ratio that
  // no overlapping can beat on this machine.
  const cores = availableParallelism();
  const cpuOf = (name: Measure): number => median(cpu.get(name) ?? [0]);
  console.log(`CPU seconds per run (median; the registry's included), ${cores} cores:`);
  console.log(`  floor ${cpuOf('floor').toFixed(2)} s (its wall ${floor.toFixed(3)} s)`);
  for (const what of ['build', 'compile'] as const) {
    const used = cpuOf(`goci ${what}`);
    const least = used / cores;
    console.log(
      `  goci ${what} ${used.toFixed(2)} s: on ${cores} cores no run can end before ${least.toFixed(3)} s = ${(least / floor).toFixed(2)}× floor`,
    );
  }
} finally {
  await registry.stop();
  await rm(work, { recursive: true, force: true });
}
