import { GociError } from '../common/errors.js';
import type { BuildSpec, VersionSettings } from '../spec/schema.js';
import { goTargetEnv } from './platform.js';
import type { Platform } from '../oci/platform.js';
import { renderTemplate, templateActions, type TemplateData } from './template.js';
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

/**
 * go build flags a goci.yaml may not use (in `flags` or in env GOFLAGS): each one either runs a
 * program of the file's choosing or makes go read a path the build context does not confine.
 */
const FORBIDDEN_FLAGS: Record<string, string> = {
  // Runs the named program in front of every compile and link.
  '-toolexec': 'it runs a program of its choosing around every compiler and linker step',
  // Runs the built program through the named program (go run/test; refused everywhere).
  '-exec': 'it runs a program of its choosing',
  // A JSON file mapping source files to replacements anywhere on the machine.
  '-overlay': 'it replaces source files with files from any path',
  // go.mod (and go.sum) read from any path instead of the module's own.
  '-modfile': "it reads go.mod from any path instead of the module's own",
  // Go >= 1.20: changes directory before anything else, so the build reads another tree.
  '-C': 'it makes go build another directory; use builds[].dir inside the build context',
  // Loads (and writes) precompiled packages from any directory.
  '-pkgdir': 'it loads precompiled packages from any directory',
  // Flags for gccgo (gcc), which can load plugins and run programs (-fplugin, -wrapper, -B).
  '-gccgoflags': 'gcc flags can load plugins and run programs',
  // Runs another compiler program (gccgo) instead of the toolchain's own.
  '-compiler': 'it runs another compiler program',
};

const REMOVE_HINT = 'remove it from goci.yaml';

/** Compiler and assembler flags (in -gcflags, -asmflags) that read or write a file at any path. */
const FORBIDDEN_TOOL_FLAGS: Record<string, string> = Object.fromEntries([
  ...['-I', '-importcfg', '-embedcfg', '-symabis'].map((name) => [name, 'reads files from any path']),
  ...['-o', '-asmhdr', '-linkobj', '-json'].map((name) => [name, 'writes a file to any path']),
  ...['-bench', '-cpuprofile', '-memprofile', '-blockprofile', '-mutexprofile', '-traceprofile'].map((name) => [
    name,
    'writes a profile to any path',
  ]),
]);

/** -pgo (Go >= 1.21) reads a profile from a path; `auto` (default.pgo of the main package) and `off` read none. */
const PGO_VALUES = ['auto', 'off'];

/** Linker flags in ldflags that run a program of the file's choosing, or read or write any path. */
const FORBIDDEN_LINKER_FLAGS: Record<string, string> = {
  '-extld': 'it names the external linker program go runs',
  '-extar': 'it names the archiver program go runs',
  '-extldflags': 'it passes flags (such as -wrapper or plugins) to the external linker program',
  // Checked with go 1.19: `-ldflags="-o /tmp/x"` writes the program there, not where goci asked.
  '-o': 'it makes the linker write the program anywhere; goci chooses the output file (see --dist)',
  '-tmpdir': 'it makes the linker write its temporary files anywhere',
  '-L': 'it makes the linker read packages from any directory',
  '-importcfg': 'it makes the linker read packages named by a file at any path',
  '-libgcc': 'it makes the linker read a compiler support library from any path',
  '-cpuprofile': 'it writes a profile to any path',
  '-memprofile': 'it writes a profile to any path',
  '-benchmarkprofile': 'it writes a profile to any path',
};

/**
 * Variables of a build's env that choose programs go runs or flags it reads; GOFLAGS is allowed
 * but checked flag by flag like `flags`.
 */
const FORBIDDEN_ENV: [RegExp, string][] = [
  [/^GOENV$/, 'it names a go env file that can set GOFLAGS, CC or GOROOT'],
  [/^(GOROOT|GOTOOLDIR|GOTOOLCHAIN)$/, 'it chooses the go toolchain programs that run'],
  [/^(CC|CXX|FC|AR|PKG_CONFIG|GCCGO)$/, 'it chooses a program go runs'],
  [/^CGO_[A-Z]*FLAGS(_ALLOW|_DISALLOW)?$/, 'its flags can make the C compiler run programs or load plugins'],
  [/^PATH$/, 'it decides which go, git and C compiler run'],
  [/^(LD_|DYLD_)/, 'it loads libraries into every program go starts'],
  [/^GIT_/, 'git configuration can run programs when go stamps version control information'],
];

export function goBuildCommand(input: CommandInput): GoCommand {
  const { build, platform, stamp } = input;
  const data = templateData(stamp, platform, input.processEnv);
  const render = (text: string, field: string): string => renderTemplate(text, data, `${input.where}.${field}`);
  const flags = build.flags.map((flag, index) => render(flag, `flags[${index}]`));
  for (const [index, flag] of flags.entries()) checkFlag(flag, `${input.where}.flags[${index}]`, flags[index + 1]);
  const userEnv = Object.fromEntries(
    Object.entries(build.env).map(([name, value]) => [name, render(value, `env.${name}`)]),
  );
  checkEnv(userEnv, `${input.where}.env`);
  const tags = build.tags.map((tag, index) => {
    const field = `tags[${index}]`;
    return checkTag(tag, render(tag, field), `${input.where}.${field}`);
  });
  const ldflags = build.ldflags.map((flag, index) => renderLinkerFlags(flag, data, `${input.where}.ldflags[${index}]`));
  const args = ['build', '-trimpath'];
  if (input.moduleMode !== 'gopath' && !flags.some((flag) => flag.startsWith('-mod=')))
    args.push(input.moduleMode === 'vendor' ? '-mod=vendor' : '-mod=readonly');
  const buildvcs = input.buildvcs ?? build.buildvcs;
  if (buildvcs !== undefined) args.push(`-buildvcs=${buildvcs}`);
  if (tags.length > 0) args.push(`-tags=${tags.join(',')}`);
  args.push(`-ldflags=${linkerFlags(input, ldflags)}`);
  args.push(...flags.filter((flag) => flag !== '-trimpath'));
  // No go.mod: GOPATH mode, which Go's default (modules) would refuse with "go.mod file not found".
  const gopath: Record<string, string> = input.moduleMode === 'gopath' ? { GO111MODULE: 'off' } : {};
  const env = { CGO_ENABLED: '0', ...gopath, ...goTargetEnv(platform), ...userEnv };
  return { cwd: input.cwd, args, package: build.main, env };
}

/** The full argument list after `go`, writing the binary to `output`; `--` keeps the package from reading as a flag. */
export function commandLine(command: GoCommand, output: string): string[] {
  return [...command.args, '-o', output, '--', command.package];
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

/** A table's entry for a name, never something inherited from Object.prototype. */
function ownValue(table: Record<string, string>, name: string): string | undefined {
  return Object.hasOwn(table, name) ? table[name] : undefined;
}

/** The flag's name as go's flag package reads it: `--x=v`, `-x=v` and `-x` all name `-x`. */
function flagName(flag: string): string {
  return `-${flag.replace(/^--?/, '').split('=')[0]!}`;
}

/**
 * One go build flag; `next` is the element after it, the value of the `-flag value` form. A
 * value for the compiler or assembler (-gcflags, -asmflags) is checked field by field.
 */
function checkFlag(flag: string, where: string, next?: string): string {
  if (!flag.startsWith('-')) return flag;
  const name = flagName(flag);
  const reason = ownValue(RESERVED_FLAGS, name);
  if (reason) throw new GociError('BAD_SPEC', `${where}: "${flag}" is set by goci; ${reason}`);
  const forbidden = ownValue(FORBIDDEN_FLAGS, name);
  if (forbidden) throw notAllowed(where, flag, forbidden);
  if (name === '-pgo' && !PGO_VALUES.includes(flag.slice(flag.indexOf('=') + 1))) {
    const hint = 'use -pgo=auto with a default.pgo in the main package';
    const problem = 'is not allowed in goci.yaml: it reads a profile from any path';
    throw new GociError('BAD_SPEC', `${where}: "${flag}" ${problem}`, { hint });
  }
  if (name === '-gcflags' || name === '-asmflags') {
    const value = flag.includes('=') ? flag.slice(flag.indexOf('=') + 1) : (next ?? '');
    for (const field of toolFlagFields(value, where)) {
      const reason = ownValue(FORBIDDEN_TOOL_FLAGS, flagName(field));
      if (reason) throw notAllowed(where, flag.includes('=') ? flag : `${flag} ${value}`, `its ${field} ${reason}`);
    }
  }
  return flag;
}

/** The flags in a -gcflags/-asmflags value: `[pattern=]args`, args split as cmd/go splits them. */
function toolFlagFields(value: string, where: string): string[] {
  const args = value.startsWith('-') || !value.includes('=') ? value : value.slice(value.indexOf('=') + 1);
  return splitLinkerFields(args, where).filter((field) => field.startsWith('-'));
}

function notAllowed(where: string, flag: string, reason: string): GociError {
  return new GociError('BAD_SPEC', `${where}: "${flag}" is not allowed in goci.yaml: ${reason}`, { hint: REMOVE_HINT });
}

/** A build's env after rendering: no variable that picks programs, and GOFLAGS holds no forbidden flag. */
function checkEnv(env: Record<string, string>, where: string): void {
  for (const [name, value] of Object.entries(env)) {
    const rule = FORBIDDEN_ENV.find(([pattern]) => pattern.test(name));
    if (rule) {
      const problem = `setting ${name} is not allowed in goci.yaml: ${rule[1]}`;
      throw new GociError('BAD_SPEC', `${where}.${name}: ${problem}`, { hint: REMOVE_HINT });
    }
    // cmd/go splits GOFLAGS on whitespace; each field is one flag.
    if (name !== 'GOFLAGS') continue;
    for (const flag of value.split(/[ \t\n\r]+/).filter(Boolean)) checkFlag(flag, `${where}.GOFLAGS`);
  }
}

/** One build tag: a rendered value must stay one tag (go splits -tags on commas and spaces). */
function checkTag(written: string, tag: string, where: string): string {
  if (tag !== '' && !/[\s,]/.test(tag)) return tag;
  const actions = templateActions(written);
  const shown = JSON.stringify(tag);
  const source = actions.length > 0 && tag !== written ? `${actions.join(' ')} gives ${shown}, which` : shown;
  throw new GociError('BAD_SPEC', `${where}: ${source} is not one build tag (no commas, spaces or empty tags)`, {
    hint: 'list each tag as its own element of tags',
  });
}

/**
 * One ldflags element, rendered so that template values stay data: the text is split into
 * fields first, the way cmd/go splits -ldflags (cmd/internal/quoted: whitespace-separated,
 * '…' or "…" at the start of a field, no escapes), then each field is rendered and quoted
 * back if it needs it. A value can never add a linker flag.
 */
function renderLinkerFlags(text: string, data: TemplateData, where: string): string {
  const fields = splitLinkerFields(text, where).map((field) => renderTemplate(field, data, where));
  fields.forEach((field) => {
    if (!field.startsWith('-')) return;
    const name = flagName(field);
    const reason = ownValue(FORBIDDEN_LINKER_FLAGS, name);
    if (reason) throw notAllowed(where, field, reason);
  });
  const written = splitLinkerFields(text, where);
  const quote = (field: string, index: number): string =>
    quoteLinkerField(field, () => `${where}: ${describeField(written[index]!)}`);
  return fields.map(quote).join(' ');
}

function describeField(written: string): string {
  const actions = templateActions(written);
  return actions.length > 0 ? `${actions.join(' ')} gives a value` : `${JSON.stringify(written)} is a value`;
}

const LINKER_SPACE = /[ \t\n\r]/;

/** cmd/internal/quoted.Split, except that a template action `{{…}}` is never split. */
function splitLinkerFields(text: string, where: string): string[] {
  const fields: string[] = [];
  let at = 0;
  for (;;) {
    while (at < text.length && LINKER_SPACE.test(text[at]!)) at++;
    if (at >= text.length) return fields;
    const quote = text[at]!;
    if (quote === "'" || quote === '"') {
      const end = text.indexOf(quote, at + 1);
      if (end < 0) {
        throw new GociError('BAD_SPEC', `${where}: unterminated ${quote} string`, { hint: 'close the quote' });
      }
      fields.push(text.slice(at + 1, end));
      at = end + 1;
      continue;
    }
    const start = at;
    while (at < text.length && !LINKER_SPACE.test(text[at]!)) {
      const close = text.startsWith('{{', at) ? text.indexOf('}}', at + 2) : -1;
      at = close >= 0 ? close + 2 : at + 1;
    }
    fields.push(text.slice(start, at));
  }
}

/**
 * cmd/internal/quoted.Join for one field: as is when cmd/go reads it back as one field, else in
 * single quotes, or double when it holds a single quote; with both quote kinds it cannot be one field.
 */
function quoteLinkerField(field: string, where: () => string): string {
  if (field !== '' && !LINKER_SPACE.test(field) && field[0] !== "'" && field[0] !== '"') return field;
  if (!field.includes("'")) return `'${field}'`;
  if (!field.includes('"')) return `"${field}"`;
  const problem = `with both ' and " and whitespace, which -ldflags cannot carry as one argument`;
  throw new GociError('BAD_SPEC', `${where()} ${problem}`, { hint: 'use a value without one of the quote kinds' });
}

/** -s -w strip, -buildid= keeps the bytes independent of the machine, -X stamps the version. */
function linkerFlags(input: CommandInput, userFlags: string[]): string {
  const { stamp, versionSettings } = input;
  const stamps: [string | undefined, string][] = [
    [versionSettings.variable, stamp.version],
    [versionSettings.commitVariable, stamp.commit],
    [versionSettings.dateVariable, stamp.date],
  ];
  const definitions = stamps
    .filter(([variable]) => variable !== undefined)
    .map(([variable, value]) => {
      const where = (): string => `${input.where}: the stamp ${variable} is a value`;
      return `-X ${quoteLinkerField(`${variable}=${value}`, where)}`;
    });
  return ['-s', '-w', '-buildid=', ...definitions, ...userFlags].join(' ');
}

/** The command as a person would type it, for --dry-run and --verbose. */
export function displayCommand(command: GoCommand, output: string, go = 'go'): string {
  const env = Object.entries(command.env).map(([name, value]) => `${name}=${shellQuote(value)}`);
  return `(cd ${shellQuote(command.cwd)} && ${[...env, go, ...commandLine(command, output).map(shellQuote)].join(' ')})`;
}

export function shellQuote(text: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}
