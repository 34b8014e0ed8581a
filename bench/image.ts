/**
 * Image assembly cost: `goci build` to an OCI layout against `goci compile` of the same three
 * targets, measured in one run with a warm Go cache, once with an empty layer cache and once
 * with a warm one; then the peak RSS of imaging a ≥ 40 MB binary. Targets: build adds ≤ 15%;
 * peak RSS ≤ 150 MB.
 *
 *   npm run bench:image            (BENCH_RUNS=N, default 5; BENCH_BASELINE=DIR also measures another build)
 */
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { againstBaseline, gociBuilds, inTurn, type GociBuild } from './baseline.js';
import { median, timeProcess } from './measure.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BUILDS = gociBuilds(ROOT);
const CLI = BUILDS[0]!.cli;
const PLATFORMS = 'linux/amd64,linux/arm64,linux/arm/v7';
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const TIME_TARGET = 1.15;
const RSS_TARGET = 150 * 1024 * 1024;
const BIG_PAYLOAD = 48 * 1024 * 1024;

async function goci(build: GociBuild, args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  return timeProcess(
    process.execPath,
    [build.cli, ...args, 'examples/server', '--platform', PLATFORMS, '--version', '1.0.0'],
    { cwd: ROOT, env },
  );
}

interface Timing {
  compile: number;
  build: number;
}

async function timing(work: string, layerCache: 'cold' | 'warm'): Promise<Map<GociBuild, Timing>> {
  const samples = new Map(BUILDS.map((build) => [build, { compile: [] as number[], build: [] as number[] }]));
  const env = (build: GociBuild, run: number): NodeJS.ProcessEnv => ({
    ...process.env,
    GOCI_CACHE_DIR: join(work, build.name, layerCache === 'warm' ? 'layer-cache' : `cache-${run}`),
  });
  for (const build of BUILDS) await goci(build, ['build', '--dist', join(work, build.name, 'prime')], env(build, -1));
  for (let run = 0; run < RUNS; run++) {
    for (const build of inTurn(BUILDS, run)) {
      const dist = join(work, build.name, `dist-${layerCache}-${run}`);
      const times = samples.get(build)!;
      // --no-cache: both run go build, so the difference is what imaging adds, not a binary cache hit.
      times.compile.push(await goci(build, ['compile', '--no-cache', '--dist', dist], env(build, run)));
      const layout = ['--oci-layout', join(dist, `oci-${run}`)];
      times.build.push(await goci(build, ['build', '--no-cache', '--dist', dist, ...layout], env(build, run)));
    }
  }
  return new Map(
    [...samples].map(([build, times]) => [build, { compile: median(times.compile), build: median(times.build) }]),
  );
}

/** A Go program carrying a 48 MB embedded payload, so its binary is well over 40 MB. */
async function bigBinary(work: string): Promise<string> {
  const dir = join(work, 'big');
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'go.mod'), 'module example.com/big\n\ngo 1.19\n');
  await writeFile(join(dir, 'payload.bin'), randomBytes(BIG_PAYLOAD));
  await writeFile(
    join(dir, 'main.go'),
    'package main\n\nimport (\n\t_ "embed"\n\t"fmt"\n)\n\n//go:embed payload.bin\nvar payload []byte\n\nfunc main() { fmt.Println(len(payload)) }\n',
  );
  await execa(process.execPath, [
    CLI,
    'compile',
    dir,
    '--platform',
    'linux/amd64',
    '--version',
    '1.0.0',
    '--dist',
    join(work, 'big-dist'),
  ]);
  return join(work, 'big-dist', 'bin', 'big-1.0.0-linux-amd64');
}

async function main(): Promise<void> {
  const work = await mkdtemp(join(tmpdir(), 'goci-bench-image-'));
  try {
    console.log(`bench:image: examples/server, ${PLATFORMS}, warm Go cache, median of ${RUNS} runs`);
    let met = true;
    for (const layerCache of ['cold', 'warm'] as const) {
      const results = await timing(work, layerCache);
      const ours = results.get(BUILDS[0]!)!;
      const baseline = BUILDS[1] ? results.get(BUILDS[1]) : undefined;
      const ratio = ours.build / ours.compile;
      met &&= ratio <= TIME_TARGET;
      console.log(
        `layer cache ${layerCache.padEnd(4)}  goci compile ${ours.compile.toFixed(2)}s  goci build ${ours.build.toFixed(2)}s  ratio ${ratio.toFixed(3)} (target ≤ ${TIME_TARGET})`,
      );
      if (baseline)
        console.log(
          `  baseline      compile${againstBaseline(ours.compile, baseline.compile, 2)}  build${againstBaseline(ours.build, baseline.build, 2)}`,
        );
    }
    const binary = await bigBinary(work);
    const size = (await stat(binary)).size;
    const { stdout } = await execa(
      process.execPath,
      [join(ROOT, 'lib', 'bench', 'image-rss.js'), binary, join(work, 'big-oci')],
      { env: { ...process.env, GOCI_CACHE_DIR: join(work, 'rss-cache') } },
    );
    const peak = Number(stdout.trim());
    met &&= peak <= RSS_TARGET;
    console.log(
      `imaging a ${(size / 1024 / 1024).toFixed(1)} MiB binary: peak RSS ${(peak / 1024 / 1024).toFixed(1)} MiB (target ≤ 150 MiB)`,
    );
    console.log(met ? 'targets met' : 'targets NOT met');
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

await main();
