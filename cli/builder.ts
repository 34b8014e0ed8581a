import { join } from 'node:path';
import type { Builder } from '../compiler/builder.js';
import { displayCommand } from '../compiler/command.js';
import type { StagedBinaries } from '../compiler/compile.js';
import { makePlan, type Plan } from '../compiler/plan.js';
import { formatPlatform } from '../compiler/platform.js';
import { reportingHostBuilder } from '../pipeline/reporting-builder.js';
import { compileRequest, distDir, jobCount, type BuildFlags } from './build-options.js';
import { makeProgress, type Progress } from './progress.js';

/**
 * The plan of `dirs` built by the Builder the flags ask for, progress shown while it runs;
 * undefined when nothing was built on purpose (--dry-run).
 */
export async function planAndBuild(
  dirs: string[],
  flags: BuildFlags,
): Promise<{ plan: Plan; staged: StagedBinaries | undefined }> {
  const plan = await makePlan(compileRequest(dirs, flags));
  const progress = makeProgress(flags.progress, flags.verbose === true);
  const staged = await cliBuilder(flags, progress)
    .build(plan)
    .finally(() => progress.finish());
  return { plan, staged };
}

/** The Builder the flags ask for: the host's `go build`, or with --dry-run one that prints each command and builds nothing. */
export function cliBuilder(flags: BuildFlags, progress: Progress): Builder {
  if (flags.dryRun)
    return {
      build: async (plan) => {
        printDryRun(plan, distDir(flags), flags.json === true);
        return undefined;
      },
    };
  return reportingHostBuilder({ dist: distDir(flags), jobs: () => jobCount(flags), cache: flags.cache }, progress);
}

function printDryRun(plan: Plan, dist: string, json: boolean): void {
  const commands = plan.targets.map((target) => {
    const output = join(dist, 'bin', target.fileName);
    return {
      build: target.buildId,
      platform: formatPlatform(target.platform),
      version: target.stamp.version,
      cwd: target.command.cwd,
      env: target.command.env,
      go: plan.toolchain.go,
      args: [...target.command.args, '-o', output, target.command.package],
      command: displayCommand(target.command, output),
    };
  });
  if (json) {
    process.stdout.write(`${JSON.stringify({ go: plan.toolchain.go, commands }, null, 2)}\n`);
    return;
  }
  for (const command of commands)
    process.stdout.write(`# ${command.build} ${command.platform} (${command.version})\n${command.command}\n`);
}
