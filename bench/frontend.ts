/**
 * The frontend's inner loop: examples/server, three platforms, one Go line changed before each
 * run, built by goci's BuildKit frontend on a standalone BuildKit (v0.11.6, scripts/buildkit.sh)
 * and pushed to a loopback docker-registry, against `goci build --push` of the same change in the
 * same run. Both are primed once (cold, not timed), then runs alternate; medians of BENCH_RUNS.
 * Needs GOCI_BUILDKIT_SRC or GOCI_BUILDKIT_BIN, as npm run e2e:buildkit does.
 *
 *   GOCI_BUILDKIT_SRC=DIR npm run bench:frontend
 */
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tagInLayout } from '../oci/layout.js';
import {
  buildctl,
  buildkitBinaries,
  buildkitSkipReason,
  frontendBuildArgs,
  startBuildkitd,
} from '../test/support/buildkitd.js';
import { goBuilderImage } from '../images/go-builder-image.js';
import { startRegistry } from '../test/support/registry.js';
import { gociBuilds } from './baseline.js';
import { changeOneLine } from './floor.js';
import { median, timeProcess } from './measure.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CLI = gociBuilds(ROOT)[0]!.cli;
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const PLATFORMS = 'linux/amd64,linux/arm64,linux/arm/v7';
const EPOCH = '1714564800';

const skip = buildkitSkipReason();
if (skip !== undefined) {
  console.error(`bench:frontend: ${skip}`);
  process.exit(1);
}
const bin = await buildkitBinaries();
if (!bin) throw new Error('bench:frontend: GOCI_BUILDKIT_SRC or GOCI_BUILDKIT_BIN did not give BuildKit binaries');

const work = await mkdtemp(join(tmpdir(), 'goci-bench-frontend-'));
const registry = await startRegistry();
const buildkitd = await startBuildkitd(bin, { insecureRegistries: [registry.host] });
try {
  const gociRun = async (args: string[]): Promise<void> => {
    await timeProcess(process.execPath, [CLI, ...args], { cwd: ROOT });
  };
  const frontendRef = `${registry.host}/goci/frontend:bench`;
  const goImageRef = `${registry.host}/goci-go-builder:1.19`;
  await gociRun(['frontend-image', '--base', 'host', '--push', `${registry.host}/goci/frontend`, '--tag', 'bench']);
  const goLayout = join(work, 'go-builder');
  const goImage = await goBuilderImage({ withShell: false, layoutDir: goLayout });
  await tagInLayout(goLayout, goImage.indexDescriptor, '1.19');
  await gociRun(['push', `oci:${goLayout}:1.19`, goImageRef]);

  const frontendSource = join(work, 'frontend-server');
  const cliSource = join(work, 'cli-server');
  for (const dir of [frontendSource, cliSource]) await cp(join(ROOT, 'examples', 'server'), dir, { recursive: true });

  const frontendBuild = async (): Promise<number> => {
    const started = process.hrtime.bigint();
    const result = await buildctl(
      buildkitd,
      frontendBuildArgs({
        frontend: frontendRef,
        dir: frontendSource,
        platforms: PLATFORMS,
        goImage: goImageRef,
        version: '1.0.0',
        epoch: EPOCH,
        name: `${registry.host}/bench/frontend:1.0.0`,
      }),
    );
    if (result.exitCode !== 0)
      throw new Error(`buildctl build failed:\n${result.stderr.split('\n').slice(-12).join('\n')}`);
    return Number(process.hrtime.bigint() - started) / 1e9;
  };
  const cliBuild = (): Promise<number> =>
    timeProcess(
      process.execPath,
      [
        CLI,
        'build',
        '.',
        '--platform',
        PLATFORMS,
        '--version',
        '1.0.0',
        '--buildvcs',
        'false',
        '--sbom',
        'none',
        '--push',
        `${registry.host}/bench/cli`,
      ],
      { cwd: cliSource, env: { ...process.env, SOURCE_DATE_EPOCH: EPOCH, GOCI_CACHE_DIR: join(work, 'goci-cache') } },
    );

  // Primed once: BuildKit's Go build cache mount and Go's own cache hold the standard library for every platform.
  await frontendBuild();
  await cliBuild();
  const frontend: number[] = [];
  const cli: number[] = [];
  let step = 0;
  for (let run = 0; run < RUNS; run++) {
    const contenders = [
      { samples: frontend, source: frontendSource, build: frontendBuild },
      { samples: cli, source: cliSource, build: cliBuild },
    ];
    for (const contender of run % 2 === 0 ? contenders : contenders.reverse()) {
      await changeOneLine(contender.source, ++step);
      contender.samples.push(await contender.build());
    }
  }
  console.log(`  frontend: ${frontend.map((value) => value.toFixed(2)).join(' ')}`);
  console.log(`  goci build --push: ${cli.map((value) => value.toFixed(2)).join(' ')}`);
  console.log(`bench:frontend: examples/server, ${PLATFORMS}, one Go line changed per run, median of ${RUNS}`);
  console.log(
    `frontend on BuildKit ${median(frontend).toFixed(3)}s, goci build --push ${median(cli).toFixed(3)}s (frontend ×${(median(frontend) / median(cli)).toFixed(2)})`,
  );
} finally {
  await buildkitd.stop();
  await registry.stop();
  await rm(work, { recursive: true, force: true });
}
