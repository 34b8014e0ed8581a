/**
 * Image assembly cost: `goci build` to an OCI layout against `goci compile` of the same three
 * targets, measured in one run with a warm Go cache, once with an empty layer cache and once
 * with a warm one; then the peak RSS of imaging a ≥ 40 MB binary. Targets: build adds ≤ 10%;
 * peak RSS ≤ 150 MB.
 *
 *   npm run bench:image            (BENCH_RUNS=N, default 5)
 */
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { median, timeProcess } from './measure.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CLI = join(ROOT, 'lib', 'goci.mjs');
const PLATFORMS = 'linux/amd64,linux/arm64,linux/arm/v7';
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const TIME_TARGET = 1.1;
const RSS_TARGET = 150 * 1024 * 1024;
const BIG_PAYLOAD = 48 * 1024 * 1024;

async function goci(args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  return timeProcess(
    process.execPath,
    [CLI, ...args, 'examples/server', '--platform', PLATFORMS, '--version', '1.0.0'],
    { cwd: ROOT, env },
  );
}

async function timing(work: string, layerCache: 'cold' | 'warm'): Promise<{ compile: number; build: number }> {
  const compile: number[] = [];
  const build: number[] = [];
  const warmCache = join(work, 'layer-cache');
  const env = (run: number): NodeJS.ProcessEnv => ({
    ...process.env,
    GOCI_CACHE_DIR: layerCache === 'warm' ? warmCache : join(work, `cache-${run}`),
  });
  await goci(['build', '--dist', join(work, 'prime')], env(-1));
  for (let run = 0; run < RUNS; run++) {
    const dist = join(work, `dist-${layerCache}-${run}`);
    // --no-cache: both run go build, so the difference is what imaging adds, not a binary cache hit.
    compile.push(await goci(['compile', '--no-cache', '--dist', dist], env(run)));
    build.push(await goci(['build', '--no-cache', '--dist', dist, '--oci-layout', join(dist, `oci-${run}`)], env(run)));
  }
  return { compile: median(compile), build: median(build) };
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
      const result = await timing(work, layerCache);
      const ratio = result.build / result.compile;
      met &&= ratio <= TIME_TARGET;
      console.log(
        `layer cache ${layerCache.padEnd(4)}  goci compile ${result.compile.toFixed(2)}s  goci build ${result.build.toFixed(2)}s  ratio ${ratio.toFixed(3)} (target ≤ ${TIME_TARGET})`,
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
