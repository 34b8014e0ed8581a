/**
 * goci against a multi-stage Dockerfile on BuildKit, measured side by side on this machine, for
 * examples/server and examples/large, three platforms, pushed to a loopback docker-registry:
 *
 * - goci:                   goci build --push (scratch base, no SBOM: the same image the Dockerfiles make)
 * - Dockerfile (cross):     FROM --platform=$BUILDPLATFORM … GOOS/GOARCH …, one docker build + push per platform
 * - Dockerfile (emulated):  the same without --platform=$BUILDPLATFORM: arm64 and arm/v7 compile under QEMU
 * - go build (floor):       the same three go build commands in parallel, no image
 *
 * Each cold (empty Go cache, BuildKit cache and registry), warm (nothing changed) and incremental
 * (one Go line changed); median of BENCH_RUNS runs (default 3). Every image is checked to run and
 * print the version before its times count. Writes bench/results/compare.json, compare.svg and
 * compare.md (the table the README shows).
 *
 *   npm run bench:compare        (after `npm test` has installed the system packages)
 *
 * BENCH_CONTENDERS=goci,floor (names or their first word) measures only those; BENCH_BASELINE=DIR adds
 * "goci (baseline)", another goci build measured in the same run. Either leaves bench/results alone.
 */
import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir, cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { found } from '../common/found.js';
import { foreignGoBuilderImage } from '../test/support/foreign-go-builder.js';
import { docker, startDockerd, type DockerdHarness } from '../test/support/dockerd.js';
import { loadBuiltGoBuilder, loadGoBuilderImage } from '../test/support/frontend-images.js';
import { startProxy, type RegistryProxy } from '../test/support/proxy.js';
import { startRegistry, type RegistryHarness } from '../test/support/registry.js';
import { renderBarChart } from './chart.js';
import { crossCompilingDockerfile, emulatedDockerfile } from './dockerfiles.js';
import { changeOneLine, floorCommands, runFloor } from './floor.js';
import { gociBuilds, type GociBuild } from './baseline.js';
import { median } from './measure.js';
import { markdownTable } from './table.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BUILDS = gociBuilds(ROOT);
const CLI = BUILDS[0]!.cli;
const RESULTS = join(ROOT, 'bench', 'results');
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const VERSION = '1.0.0';
const PLATFORMS = ['linux/amd64', 'linux/arm64', 'linux/arm/v7'] as const;
const EXAMPLES = (process.env.BENCH_EXAMPLES ?? 'server,large').split(',');
/** Compiling `large` under QEMU takes many minutes per architecture: by default only `server` is emulated. */
const EMULATED_EXAMPLES = (process.env.BENCH_EMULATED_EXAMPLES ?? 'server').split(',');
const ALL_CONTENDERS = [
  'goci',
  'goci (baseline)',
  'Dockerfile (cross)',
  'Dockerfile (emulated)',
  'go build (floor)',
] as const;
type Contender = (typeof ALL_CONTENDERS)[number];
const CONTENDERS = ALL_CONTENDERS.filter(chosen);
/** A partial run (some contenders, or a baseline) is a check, not the figures the README shows. */
const PARTIAL = process.env.BENCH_CONTENDERS !== undefined || BUILDS.length > 1;
const SCENARIOS = ['cold', 'warm', 'incremental'] as const;
type Scenario = (typeof SCENARIOS)[number];

function chosen(contender: Contender): boolean {
  if (contender === 'goci (baseline)') return BUILDS.length > 1;
  const wanted = process.env.BENCH_CONTENDERS?.split(',').map((name) => name.trim().toLowerCase());
  if (!wanted) return true;
  const words = contender.toLowerCase().replace(/[()]/g, '').split(' ');
  return wanted.some((name) => name === contender.toLowerCase() || words.includes(name));
}

/** The goci build a goci contender runs, and the repository it pushes to. */
function gociOf(contender: 'goci' | 'goci (baseline)'): { build: GociBuild; repository: string } {
  const build = found(contender === 'goci' ? BUILDS[0] : BUILDS[1], `the goci build of ${contender}`);
  return { build, repository: build.name === 'goci' ? 'bench/goci' : 'bench/goci-baseline' };
}

interface Measurement {
  seconds: number;
  uploadedBytes: number;
  imageBytes: number;
  /** What identifies the result: the index digest, the platform manifest digests, or the binaries' sha256. */
  identity: string;
}

interface World {
  work: string;
  daemon: DockerdHarness;
  registry: RegistryHarness;
  proxy: RegistryProxy;
  emulation: boolean;
}

const seconds = (start: bigint): number => Number(process.hrtime.bigint() - start) / 1e9;

/** A fresh registry behind a byte-counting proxy: "cold" means nothing is there yet. */
async function freshRegistry(world: World): Promise<void> {
  await world.proxy.stop();
  await world.registry.stop();
  world.registry = await startRegistry();
  world.proxy = await startProxy(world.registry.url);
}

function uploaded(proxy: RegistryProxy): number {
  return proxy.records
    .filter((record) => record.path.includes('/blobs/uploads'))
    .reduce((sum, record) => sum + record.requestBytes, 0);
}

async function registryJson(world: World, repository: string, reference: string): Promise<any> {
  const response = await fetch(`${world.registry.url}/v2/${repository}/manifests/${reference}`, {
    headers: {
      Accept:
        'application/vnd.oci.image.index.v1+json,application/vnd.oci.image.manifest.v1+json,application/vnd.docker.distribution.manifest.v2+json,application/vnd.docker.distribution.manifest.list.v2+json',
    },
  });
  return response.json();
}

/** Compressed bytes of a pushed image: every platform's layers and config. */
async function imageSize(world: World, repository: string, references: string[]): Promise<number> {
  let total = 0;
  for (const reference of references) {
    const document = await registryJson(world, repository, reference);
    const manifests = document.manifests
      ? await Promise.all(
          document.manifests.map((entry: { digest: string }) => registryJson(world, repository, entry.digest)),
        )
      : [document];
    for (const manifest of manifests)
      total +=
        manifest.config.size + manifest.layers.reduce((sum: number, layer: { size: number }) => sum + layer.size, 0);
  }
  return total;
}

/** Caches of one contender's run of one example: a cold run shares nothing with anything measured before it. */
function runCache(world: World, kind: string, example: string, run: number): string {
  return join(world.work, `${kind}-${example}-${run}`);
}

async function gociRun(
  world: World,
  example: string,
  source: string,
  run: number,
  contender: 'goci' | 'goci (baseline)',
): Promise<Measurement> {
  const { build, repository } = gociOf(contender);
  const env = {
    ...process.env,
    GOCACHE: runCache(world, `gocache-${build.name}`, example, run),
    GOCI_CACHE_DIR: runCache(world, `gocicache-${build.name}`, example, run),
  };
  const start = process.hrtime.bigint();
  const { stdout } = await execa(
    process.execPath,
    [
      build.cli,
      'build',
      '.',
      '--platform',
      PLATFORMS.join(','),
      '--version',
      VERSION,
      '--buildvcs',
      'false',
      '--base',
      'scratch',
      '--sbom',
      'none',
      '--push',
      `${world.proxy.host}/${repository}`,
      '--tags',
      VERSION,
      '--json',
      '--progress',
      'plain',
    ],
    { cwd: source, env },
  );
  const elapsed = seconds(start);
  const digest = (JSON.parse(stdout) as { images: { index: { digest: string } }[] }).images[0]!.index.digest;
  return {
    seconds: elapsed,
    uploadedBytes: uploaded(world.proxy),
    imageBytes: await imageSize(world, repository, [VERSION]),
    identity: digest,
  };
}

async function dockerfileRun(
  world: World,
  source: string,
  kind: 'cross' | 'emulated',
  scenario: Scenario,
): Promise<Measurement> {
  if (scenario === 'cold') await docker(['builder', 'prune', '-af'], world.daemon, { timeoutMs: 120_000 });
  const dockerfile = join(source, `Dockerfile.${kind}`);
  const repository = `bench/dockerfile-${kind}`;
  const env = { ...world.daemon.env, DOCKER_BUILDKIT: '1' };
  const digests: string[] = [];
  const start = process.hrtime.bigint();
  for (const platform of PLATFORMS) {
    const tag = `${world.proxy.host}/${repository}:${VERSION}-${platform.split('/').slice(1).join('')}`;
    const built = await docker(
      ['build', '--network', 'host', '--platform', platform, '-f', dockerfile, '-t', tag, source],
      { env },
      { timeoutMs: 1_800_000 },
    );
    if (built.exitCode !== 0) throw new Error(`docker build ${kind} ${platform} failed: ${String(built.stderr)}`);
    const pushed = await docker(['push', tag], { env }, { timeoutMs: 600_000 });
    if (pushed.exitCode !== 0) throw new Error(`docker push ${tag} failed: ${String(pushed.stderr)}`);
    digests.push(/digest: (sha256:[0-9a-f]{64})/.exec(String(pushed.stdout))?.[1] ?? '');
  }
  const elapsed = seconds(start);
  const references = PLATFORMS.map((platform) => `${VERSION}-${platform.split('/').slice(1).join('')}`);
  return {
    seconds: elapsed,
    uploadedBytes: uploaded(world.proxy),
    imageBytes: await imageSize(world, repository, references),
    identity: digests.join(','),
  };
}

/** The go build commands goci runs, straight, in parallel: what any image tool must at least spend. */
async function floorRun(world: World, example: string, source: string, run: number): Promise<Measurement> {
  const commands = await floorCommands(CLI, source, PLATFORMS, VERSION, join(world.work, 'floor-plan'));
  const env = { ...process.env, GOCACHE: runCache(world, 'gocache-floor', example, run) };
  const start = process.hrtime.bigint();
  const binaries = await runFloor(commands, runCache(world, 'floor-out', example, run), env);
  const elapsed = seconds(start);
  const sums = await Promise.all(
    binaries.map(async (binary) => (await execa('sha256sum', [binary])).stdout.slice(0, 64)),
  );
  return { seconds: elapsed, uploadedBytes: 0, imageBytes: 0, identity: sums.join(',') };
}

/** Every image the contender pushed runs (QEMU for arm) and prints the version it was stamped with. */
async function checkImages(world: World, contender: Contender, example: string): Promise<void> {
  if (contender === 'go build (floor)') return;
  for (const platform of PLATFORMS) {
    const reference =
      contender === 'goci' || contender === 'goci (baseline)'
        ? `${world.registry.host}/${gociOf(contender).repository}:${VERSION}`
        : `${world.registry.host}/bench/dockerfile-${contender.includes('cross') ? 'cross' : 'emulated'}:${VERSION}-${platform.split('/').slice(1).join('')}`;
    const pulled = await docker(['pull', '--platform', platform, reference], world.daemon, { timeoutMs: 120_000 });
    if (pulled.exitCode !== 0)
      throw new Error(`docker pull ${reference} (${platform}) failed: ${String(pulled.stderr)}`);
    const ran = await docker(
      [
        'run',
        '--rm',
        '--network',
        'none',
        '--platform',
        platform,
        reference,
        ...(example === 'server' ? ['-version'] : []),
      ],
      world.daemon,
      { timeoutMs: 120_000 },
    );
    const line = String(ran.stdout).split('\n')[0] ?? '';
    if (!line.startsWith(`${VERSION} linux ${platform.split('/')[1]}`))
      throw new Error(`${contender} ${platform}: the image printed "${line}", not version ${VERSION}`);
  }
}

async function exampleCopy(world: World, example: string, contender: Contender): Promise<string> {
  const dir = join(world.work, 'src', `${example}-${contender.replace(/\W+/g, '-')}`);
  await rm(dir, { recursive: true, force: true });
  await cp(join(ROOT, 'examples', example), dir, { recursive: true });
  await writeFile(join(dir, 'Dockerfile.cross'), crossCompilingDockerfile('goci-go-builder:shell', VERSION));
  await writeFile(join(dir, 'Dockerfile.emulated'), emulatedDockerfile('goci-go-builder', VERSION));
  return dir;
}

async function measure(
  world: World,
  example: string,
  contender: Contender,
  scenario: Scenario,
  source: string,
  run: number,
): Promise<Measurement> {
  world.proxy.reset();
  switch (contender) {
    case 'goci':
    case 'goci (baseline)':
      return gociRun(world, example, source, run, contender);
    case 'Dockerfile (cross)':
      return dockerfileRun(world, source, 'cross', scenario);
    case 'Dockerfile (emulated)':
      return dockerfileRun(world, source, 'emulated', scenario);
    case 'go build (floor)':
      return floorRun(world, example, source, run);
  }
}

async function prepareImages(world: World): Promise<void> {
  if (!CONTENDERS.some((contender) => contender.startsWith('Dockerfile'))) return;
  await loadGoBuilderImage(world.daemon, world.work, 'shell', true);
  if (!world.emulation || !CONTENDERS.includes('Dockerfile (emulated)')) return;
  for (const arch of ['arm64', 'arm'] as const) {
    const image = await foreignGoBuilderImage({
      arch,
      withShell: true,
      layoutDir: join(world.work, `foreign-${arch}`),
    });
    await loadBuiltGoBuilder(world.daemon, world.work, image, `emulated-${arch === 'arm' ? 'armv7' : 'arm64'}`);
  }
  // amd64 is native: the "emulated" Dockerfile builds it like the cross one.
  const retag = await docker(['tag', 'goci-go-builder:shell', 'goci-go-builder:emulated-amd64'], world.daemon);
  if (retag.exitCode !== 0) throw new Error(String(retag.stderr));
}

interface Row {
  example: string;
  contender: Contender;
  scenario: Scenario;
  seconds: number | undefined;
  runs: number[];
  uploadedBytes: number;
  imageBytes: number;
  reproducible: boolean | undefined;
}

async function main(): Promise<void> {
  const started = Date.now();
  const work = await mkdtemp(join(tmpdir(), 'goci-bench-compare-'));
  const registry = await startRegistry();
  const world: World = {
    work,
    daemon: await startDockerd(),
    registry,
    proxy: await startProxy(registry.url),
    emulation: process.env.BENCH_EMULATED !== '0',
  };
  const rows: Row[] = [];
  try {
    await prepareImages(world);
    for (const example of EXAMPLES) {
      for (const contender of CONTENDERS) {
        if (contender === 'Dockerfile (emulated)' && (!world.emulation || !EMULATED_EXAMPLES.includes(example)))
          continue;
        const samples: Record<Scenario, Measurement[]> = { cold: [], warm: [], incremental: [] };
        for (let run = 0; run < RUNS; run++) {
          const source = await exampleCopy(world, example, contender);
          await freshRegistry(world);
          for (const scenario of SCENARIOS) {
            if (scenario === 'incremental') await changeOneLine(source, run);
            const result = await measure(world, example, contender, scenario, source, run);
            if (run === 0 && scenario === 'cold') await checkImages(world, contender, example);
            samples[scenario].push(result);
            console.log(
              `${example.padEnd(6)} ${contender.padEnd(22)} ${scenario.padEnd(11)} run ${run + 1}/${RUNS}: ${result.seconds.toFixed(2)}s, uploaded ${(result.uploadedBytes / 1e6).toFixed(1)} MB`,
            );
          }
        }
        for (const scenario of SCENARIOS) {
          const list = samples[scenario];
          rows.push({
            example,
            contender,
            scenario,
            seconds: median(list.map((sample) => sample.seconds)),
            runs: list.map((sample) => Number(sample.seconds.toFixed(3))),
            uploadedBytes: median(list.map((sample) => sample.uploadedBytes)),
            imageBytes: list[0]!.imageBytes,
            reproducible:
              scenario === 'cold' && list.length > 1
                ? list.every((sample) => sample.identity === list[0]!.identity)
                : undefined,
          });
        }
      }
    }
  } finally {
    await world.proxy.stop();
    await world.registry.stop();
    await world.daemon.stop();
    await rm(work, { recursive: true, force: true });
  }
  await report(rows, Math.round((Date.now() - started) / 1000));
}

function ratio(rows: Row[], example: string, scenario: Scenario, other: Contender): number | undefined {
  const goci = rows.find(
    (row) => row.example === example && row.scenario === scenario && row.contender === 'goci',
  )?.seconds;
  const them = rows.find(
    (row) => row.example === example && row.scenario === scenario && row.contender === other,
  )?.seconds;
  return goci !== undefined && them !== undefined ? them / goci : undefined;
}

async function report(rows: Row[], totalSeconds: number): Promise<void> {
  const machine = `${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB, ${process.platform}/${process.arch}`;
  const date = new Date().toISOString().slice(0, 10);
  const targets = EXAMPLES.map((example) => ({
    example,
    crossWarm: ratio(rows, example, 'warm', 'Dockerfile (cross)'),
    crossIncremental: ratio(rows, example, 'incremental', 'Dockerfile (cross)'),
    emulatedCold: ratio(rows, example, 'cold', 'Dockerfile (emulated)'),
    floorWarm: ratio(rows, example, 'warm', 'go build (floor)'),
    floorCold: ratio(rows, example, 'cold', 'go build (floor)'),
    reproducible: rows.find((row) => row.example === example && row.contender === 'goci' && row.scenario === 'cold')
      ?.reproducible,
  }));
  if (PARTIAL) {
    console.log(`\n${markdownTable(rows, CONTENDERS, 'goci')}\n${baselineLines(rows).join('\n')}`);
    console.log(`partial run (BENCH_CONTENDERS or BENCH_BASELINE): bench/results left alone; ${totalSeconds}s`);
    return;
  }
  await mkdir(RESULTS, { recursive: true });
  await writeFile(
    join(RESULTS, 'compare.json'),
    `${JSON.stringify({ date, machine, runs: RUNS, platforms: PLATFORMS, totalSeconds, rows, targets }, null, 2)}\n`,
  );
  const colors: Record<Contender, string> = {
    goci: '#1f77b4',
    'Dockerfile (cross)': '#ff7f0e',
    'Dockerfile (emulated)': '#d62728',
    'go build (floor)': '#7f7f7f',
    'goci (baseline)': '#aec7e8',
  };
  const svg = renderBarChart({
    title: 'goci vs a multi-stage Dockerfile on BuildKit: build + push of 3 platforms',
    subtitle: `${machine}, ${date}, median of ${RUNS} runs (log scale)`,
    unit: 's',
    logScale: true,
    series: CONTENDERS.map((name) => ({ name, color: colors[name] })),
    groups: EXAMPLES.flatMap((example) =>
      SCENARIOS.map((scenario) => ({
        label: `${example} ${scenario}`,
        bars: CONTENDERS.map((contender) => {
          const row = rows.find(
            (candidate) =>
              candidate.example === example && candidate.scenario === scenario && candidate.contender === contender,
          );
          const times = contender === 'goci' ? undefined : ratio(rows, example, scenario, contender);
          return {
            series: contender,
            value: row?.seconds ?? Number.NaN,
            ...(times ? { note: `goci ×${times.toFixed(1)} faster` } : {}),
          };
        }),
      })),
    ),
  });
  await writeFile(join(RESULTS, 'compare.svg'), svg);
  const table = markdownTable(rows, CONTENDERS, 'goci');
  await writeFile(join(RESULTS, 'compare.md'), table);
  console.log(`\n${table}`);
  console.log(
    `\ntargets: ${JSON.stringify(targets)}\nwrote bench/results/compare.json, compare.svg and compare.md in ${totalSeconds}s`,
  );
}

/** Per example and scenario, this checkout's goci against the baseline build's, ×>1 meaning slower. */
function baselineLines(rows: Row[]): string[] {
  return rows
    .filter((row) => row.contender === 'goci')
    .flatMap((row) => {
      const baseline = rows.find(
        (other) =>
          other.contender === 'goci (baseline)' && other.example === row.example && other.scenario === row.scenario,
      );
      if (row.seconds === undefined || baseline?.seconds === undefined) return [];
      const ratio = row.seconds / baseline.seconds;
      return [
        `${row.example} ${row.scenario}: goci ${row.seconds.toFixed(3)}s, baseline ${baseline.seconds.toFixed(3)}s (×${ratio.toFixed(3)})`,
      ];
    });
}

await main();
