import { GociError } from '../common/errors.js';
import type { BuildSpec, VersionSettings } from '../spec/schema.js';
import { goTargetEnv, type Platform } from './platform.js';
import { renderTemplate, type TemplateData } from './template.js';
import type { Stamp } from './version.js';

/** How the module being built manages dependencies; decides the -mod flag. */
export type ModuleMode = 'module' | 'vendor' | 'gopath';

/** One `go build` invocation as plain data: what --dry-run prints and what the runner executes. */
export interface GoCommand {
  /** Directory `go build` runs in. */
  cwd: string;
  /** Everything after `go`, except `-o OUTPUT PACKAGE` (see commandLine). */
  args: string[];
  /** The main package, relative to `cwd`. */
  package: string;
  /** Only the variables goci sets; the process environment is inherited underneath. */
  env: Record<string, string>;
}

export interface CommandInput {
  build: BuildSpec;
  /** The build's location for messages, e.g. `goci.yaml: builds[0]`. */
  where: string;
  platform: Platform;
  stamp: Stamp;
  versionSettings: VersionSettings;
  cwd: string;
  moduleMode: ModuleMode;
  buildvcs: string | undefined;
  processEnv: NodeJS.ProcessEnv;
}

/** Flags goci owns; setting them in `flags` would silently undo stamping or output naming. */
const RESERVED_FLAGS: Record<string, string> = {
  '-o': 'goci chooses the output file (see --dist)',
  '-ldflags': 'put linker flags in ldflags',
  '-tags': 'put build tags in tags',
  '-buildvcs': 'use the buildvcs field',
};

export function goBuildCommand(input: CommandInput): GoCommand {
  const { build, platform, stamp } = input;
  const data = templateData(stamp, platform, input.processEnv);
  const render = (text: string, field: string): string => renderTemplate(text, data, `${input.where}.${field}`);
  const flags = build.flags.map((flag, index) => checkFlag(render(flag, `flags[${index}]`), `${input.where}.flags[${index}]`));
  const userEnv = Object.fromEntries(Object.entries(build.env).map(([name, value]) => [name, render(value, `env.${name}`)]));
  const args = ['build', '-trimpath'];
  if (input.moduleMode !== 'gopath' && !flags.some((flag) => flag.startsWith('-mod='))) args.push(input.moduleMode === 'vendor' ? '-mod=vendor' : '-mod=readonly');
  const buildvcs = input.buildvcs ?? build.buildvcs;
  if (buildvcs !== undefined) args.push(`-buildvcs=${buildvcs}`);
  if (build.tags.length > 0) args.push(`-tags=${build.tags.map((tag, index) => render(tag, `tags[${index}]`)).join(',')}`);
  args.push(`-ldflags=${linkerFlags(input, build.ldflags.map((flag, index) => render(flag, `ldflags[${index}]`)))}`);
  args.push(...flags.filter((flag) => flag !== '-trimpath'));
  return { cwd: input.cwd, args, package: build.main, env: { CGO_ENABLED: '0', ...goTargetEnv(platform), ...userEnv } };
}

/** The full argument list after `go`, writing the binary to `output`. */
export function commandLine(command: GoCommand, output: string): string[] {
  return [...command.args, '-o', output, command.package];
}

function templateData(stamp: Stamp, platform: Platform, env: NodeJS.ProcessEnv): TemplateData {
  return {
    Version: stamp.version,
    Commit: stamp.commit,
    ShortCommit: stamp.shortCommit,
    Date: stamp.date,
    CommitTimestamp: stamp.commitTimestamp,
    Os: platform.os,
    Arch: platform.arch,
    Variant: platform.variant ?? '',
    Env: env,
  };
}

function checkFlag(flag: string, where: string): string {
  const name = flag.split('=')[0]!.replace(/^--/, '-');
  const reason = RESERVED_FLAGS[name];
  if (reason) throw new GociError('BAD_SPEC', `${where}: "${flag}" is set by goci; ${reason}`);
  return flag;
}

/** -s -w strip, -buildid= keeps the bytes independent of the machine, -X stamps the version. */
function linkerFlags(input: CommandInput, userFlags: string[]): string {
  const { stamp, versionSettings } = input;
  const stamps: [string | undefined, string][] = [
    [versionSettings.variable, stamp.version],
    [versionSettings.commitVariable, stamp.commit],
    [versionSettings.dateVariable, stamp.date],
  ];
  const definitions = stamps.filter(([variable]) => variable !== undefined).map(([variable, value]) => `-X ${quoteLinkerArgument(`${variable}=${value}`)}`);
  return ['-s', '-w', '-buildid=', ...definitions, ...userFlags].join(' ');
}

/** cmd/go splits -ldflags on spaces but honours quotes, so quote anything with a space or quote in it. */
function quoteLinkerArgument(text: string): string {
  if (!/[\s'"]/.test(text)) return text;
  return text.includes("'") ? `"${text.replace(/(["\\])/g, '\\$1')}"` : `'${text}'`;
}

/** The command as a person would type it, for --dry-run and --verbose. */
export function displayCommand(command: GoCommand, output: string, go = 'go'): string {
  const env = Object.entries(command.env).map(([name, value]) => `${name}=${shellQuote(value)}`);
  return `(cd ${shellQuote(command.cwd)} && ${[...env, go, ...commandLine(command, output).map(shellQuote)].join(' ')})`;
}

export function shellQuote(text: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}
