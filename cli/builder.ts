import { join } from 'node:path';
import type { Builder } from '../compiler/builder.js';
import { displayCommand } from '../compiler/command.js';
import type { Plan } from '../compiler/plan.js';
import { formatPlatform } from '../compiler/platform.js';
import { reportingHostBuilder } from '../pipeline/reporting-builder.js';
import { distDir, jobCount, type BuildFlags } from './build-options.js';
import type { Progress } from './progress.js';

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
