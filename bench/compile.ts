/**
 * goci compile against the same go build commands run directly in parallel, cold and warm
 * caches (Go's, and goci's binary cache beside it), measured in one run. Target: goci / direct ≤ 1.05.
 *
 *   npm run bench:compile            (BENCH_RUNS=N to change the number of runs, default 3)
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { median, timeProcess } from './measure.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CLI = join(ROOT, 'lib', 'goci.cjs');
const EXAMPLE = 'examples/server';
const PLATFORMS = 'linux/amd64,linux/arm64,linux/arm/v7,linux/386';
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const TARGET_RATIO = 1.05;

interface PlannedCommand {
  cwd: string;
  env: Record<string, string>;
  go: string;
  args: string[];
}

/** The exact commands goci would run, taken from its own --dry-run so both sides do the same work. */
async function plannedCommands(dist: string): Promise<PlannedCommand[]> {
  const { stdout } = await execa(
    process.execPath,
    [CLI, 'compile', EXAMPLE, '--platform', PLATFORMS, '--version', '1.0.0', '--dist', dist, '--dry-run', '--json'],
    { cwd: ROOT },
  );
  return (JSON.parse(stdout) as { commands: PlannedCommand[] }).commands;
}

async function direct(commands: PlannedCommand[], gocache: string): Promise<number> {
  const started = process.hrtime.bigint();
  await Promise.all(
    commands.map((command) =>
      timeProcess(command.go, command.args, {
        cwd: command.cwd,
        env: { ...process.env, ...command.env, GOCACHE: gocache },
      }),
    ),
  );
  return Number(process.hrtime.bigint() - started) / 1e9;
}

/** goci's binary cache lives beside the Go cache: cold means both empty, warm means both primed. */
function viaGoci(dist: string, gocache: string): Promise<number> {
  return timeProcess(
    process.execPath,
    [CLI, 'compile', EXAMPLE, '--platform', PLATFORMS, '--version', '1.0.0', '--dist', dist],
    { cwd: ROOT, env: { ...process.env, GOCACHE: gocache, GOCI_CACHE_DIR: `${gocache}-goci` } },
  );
}

async function scenario(
  name: 'cold' | 'warm',
  commands: PlannedCommand[],
  work: string,
): Promise<{ goci: number; direct: number }> {
  const gociTimes: number[] = [];
  const directTimes: number[] = [];
  const warmCache = join(work, 'warm-cache');
  if (name === 'warm') await viaGoci(join(work, 'dist-prime'), warmCache);
  for (let run = 0; run < RUNS; run++) {
    const cache = (side: string): string => (name === 'warm' ? warmCache : join(work, `cold-${side}-${run}`));
    // Alternate who goes first so neither side always inherits a hot page cache.
    const order = run % 2 === 0 ? ['goci', 'direct'] : ['direct', 'goci'];
    for (const side of order) {
      if (side === 'goci') gociTimes.push(await viaGoci(join(work, 'dist'), cache('goci')));
      else directTimes.push(await direct(commands, cache('direct')));
    }
  }
  return { goci: median(gociTimes), direct: median(directTimes) };
}

async function main(): Promise<void> {
  const work = await mkdtemp(join(tmpdir(), 'goci-bench-compile-'));
  try {
    const commands = (await plannedCommands(join(work, 'dist'))).map((command) => ({
      ...command,
      args: command.args.map((arg) => arg.replace(/\/dist\/bin\//, '/direct/bin/')),
    }));
    await execa('mkdir', ['-p', join(work, 'direct', 'bin')]);
    console.log(`bench:compile: ${EXAMPLE}, ${PLATFORMS}, median of ${RUNS} runs each`);
    let met = true;
    for (const name of ['cold', 'warm'] as const) {
      const result = await scenario(name, commands, work);
      const ratio = result.goci / result.direct;
      met &&= ratio <= TARGET_RATIO;
      console.log(
        `${name.padEnd(5)} go build direct ${result.direct.toFixed(2)}s  goci compile ${result.goci.toFixed(2)}s  ratio ${ratio.toFixed(3)} (target ≤ ${TARGET_RATIO})`,
      );
    }
    console.log(met ? 'target met' : 'target NOT met');
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

await main();
