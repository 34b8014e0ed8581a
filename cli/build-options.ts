import { resolve } from 'node:path';
import { Option, type Command } from 'commander';
import { GociError } from '../common/errors.js';
import { defaultJobs } from '../compiler/default-jobs.js';
import type { CompileRequest } from '../compiler/plan.js';
import { progressOption, type ProgressMode } from './progress.js';
import { collect } from './collect.js';

/** Flags shared by every command that compiles: compile, release (and later build). */
export interface BuildFlags {
  platform?: string[];
  version?: string;
  config?: string;
  /** The build context goci.yaml's paths may reach (default: goci.yaml's directory). */
  context?: string;
  dist: string;
  jobs: string;
  buildvcs?: string;
  dryRun?: boolean;
  /** false with --no-cache. */
  cache: boolean;
  verbose?: boolean;
  json?: boolean;
  progress?: ProgressMode;
}

export function addBuildOptions(command: Command): Command {
  return command
    .option(
      '-p, --platform <list>',
      'target platforms, os/arch[/variant], comma-separated or repeated; "all" = Go\'s first-class ports',
      collect,
    )
    .option('--version <semver>', 'the version to stamp (default: derived from git tags)')
    .option('-c, --config <file>', 'goci.yaml to use instead of <dir>/goci.yaml')
    .option('--context <dir>', "widen the build context goci.yaml's paths may reach (default: goci.yaml's directory)")
    .option('--dist <dir>', 'output directory', 'dist')
    .option('-j, --jobs <n>', 'targets built at once (default: the number of cores, at least 4)', String(defaultJobs()))
    .addOption(new Option('--buildvcs <mode>', 'passed to go build -buildvcs').choices(['true', 'false', 'auto']))
    .option('--dry-run', 'print the go build command and environment of every target, build nothing')
    .option(
      '--no-cache',
      "run go build for every target even when goci's cache holds a binary built from the same inputs",
    )
    .option('-v, --verbose', 'print each go build command as it starts')
    .addOption(progressOption())
    .option('--json', 'print the result as JSON');
}

export function compileRequest(packages: string[], flags: BuildFlags): CompileRequest {
  return {
    packages,
    config: flags.config,
    platforms: flags.platform,
    version: flags.version,
    buildvcs: flags.buildvcs,
    env: process.env,
    context: flags.context,
  };
}

export function jobCount(flags: BuildFlags): number {
  const jobs = Number(flags.jobs);
  if (!Number.isInteger(jobs) || jobs < 1)
    throw new GociError('BAD_ARGUMENT', `--jobs ${flags.jobs}: expected a whole number of at least 1`);
  return jobs;
}

export function distDir(flags: BuildFlags): string {
  return resolve(flags.dist);
}
