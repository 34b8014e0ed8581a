import { join } from 'node:path';
import { Command } from 'commander';
import { displayPath } from '../../common/display-path.js';
import { checkWritable } from '../../common/writable.js';
import { displayCommand } from '../../compiler/command.js';
import { compileStaged, publishStaged } from '../../compiler/compile.js';
import type { CompiledBinary, CompileOptions, StagedBinaries } from '../../compiler/compile.js';
import { makePlan, type Plan } from '../../compiler/plan.js';
import { formatPlatform } from '../../compiler/platform.js';
import { addBuildOptions, compileRequest, distDir, jobCount, type BuildFlags } from '../build-options.js';
import { makeProgress, type Progress } from '../progress.js';
import { formatSeconds, formatSize, renderTable } from '../table.js';

export function compileCommand(): Command {
  return addBuildOptions(new Command('compile'))
    .description('cross-compile static, stamped Go binaries into <dist>/bin')
    .argument('[dirs...]', 'directories of Go main packages (or of a goci.yaml); default: the current directory')
    .action(async (dirs: string[], flags: BuildFlags) => {
      const { plan, binaries } = await planAndCompile(dirs, flags);
      if (!binaries) return;
      process.stdout.write(
        flags.json
          ? `${JSON.stringify({ version: plan.targets[0]?.stamp.version, binaries }, null, 2)}\n`
          : binaryTable(binaries),
      );
    });
}

/** Plans, then either prints the commands (--dry-run) or builds them. Shared with release. */
export async function planAndCompile(
  dirs: string[],
  flags: BuildFlags,
): Promise<{ plan: Plan; binaries: CompiledBinary[] | undefined }> {
  const plan = await makePlan(compileRequest(dirs, flags));
  const progress = makeProgress(flags.progress, flags.verbose === true);
  try {
    return { plan, binaries: await compilePlan(plan, flags, progress) };
  } finally {
    progress.finish();
  }
}

/** Builds a plan's targets, or with --dry-run prints their commands and builds nothing. */
export async function compilePlan(
  plan: Plan,
  flags: BuildFlags,
  progress: Progress,
): Promise<CompiledBinary[] | undefined> {
  const staged = await compilePlanStaged(plan, flags, progress);
  return staged && publishStaged(staged);
}

/** Like compilePlan, but leaves the binaries staged: `goci build` publishes them with the image. */
export async function compilePlanStaged(
  plan: Plan,
  flags: BuildFlags,
  progress: Progress,
): Promise<StagedBinaries | undefined> {
  if (flags.dryRun) {
    printDryRun(plan, distDir(flags), flags.json === true);
    return undefined;
  }
  // A read-only or blocked --dist is found before anything compiles.
  await checkWritable(join(distDir(flags), 'bin'));
  return compileStaged(plan, compileOptions(plan, flags, progress));
}

function compileOptions(plan: Plan, flags: BuildFlags, progress: Progress): CompileOptions {
  const dist = distDir(flags);
  const label = (target: Plan['targets'][number]): string => `${target.binary} ${formatPlatform(target.platform)}`;
  return {
    distDir: dist,
    jobs: jobCount(flags),
    cache: flags.cache,
    onStart: (target) =>
      progress.report({
        kind: 'compile-start',
        target: label(target),
        command: displayCommand(target.command, join(dist, 'bin', target.fileName), plan.toolchain.go),
      }),
    onBuilt: (target, size, seconds, cached) =>
      progress.report({ kind: 'compile-done', target: label(target), size, seconds, cached }),
  };
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

function binaryTable(binaries: CompiledBinary[]): string {
  return renderTable(
    ['TARGET', 'FILE', 'SIZE', 'SHA256', 'TIME'],
    binaries.map((binary) => [
      binary.platform,
      displayPath(binary.path),
      formatSize(binary.size),
      binary.sha256.slice(0, 16),
      binary.cached ? 'cached' : formatSeconds(binary.seconds),
    ]),
    [2, 4],
  );
}
