import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';

/** One `go build` command as `goci compile --dry-run --json` prints it. */
export interface GoCommand {
  cwd: string;
  env: Record<string, string>;
  go: string;
  args: string[];
}

/** The go build commands goci would run for `source`: the floor, what any image tool must at least spend. */
export async function floorCommands(
  cli: string,
  source: string,
  platforms: readonly string[],
  version: string,
  dist: string,
): Promise<GoCommand[]> {
  const { stdout } = await execa(
    process.execPath,
    [
      cli,
      'compile',
      '.',
      '--platform',
      platforms.join(','),
      '--version',
      version,
      '--buildvcs',
      'false',
      '--dry-run',
      '--json',
      '--dist',
      dist,
    ],
    { cwd: source },
  );
  return (JSON.parse(stdout) as { commands: GoCommand[] }).commands;
}

/** Runs the commands in parallel, each binary into `out`; their paths, in command order. */
export async function runFloor(commands: GoCommand[], out: string, env: NodeJS.ProcessEnv): Promise<string[]> {
  await mkdir(out, { recursive: true });
  return Promise.all(
    commands.map(async (command, index) => {
      const args = [...command.args];
      const binary = join(out, `bin-${index}`);
      args[args.indexOf('-o') + 1] = binary;
      await execa(command.go, args, { cwd: command.cwd, env: { ...env, ...command.env } });
      return binary;
    }),
  );
}

/**
 * One line of Go code changed, the same way for every contender: the binaries change (a string
 * main reads, which the linker keeps), what they do does not. (Until 2026-12-02 this changed a
 * comment, which Go compiles to the same binary: the loop figures measured before then are of a
 * relink of unchanged bytes, with no new layer to compress or push.)
 */
export async function changeOneLine(source: string, step: number): Promise<void> {
  const main = join(source, 'main.go');
  const text = (await readFile(main, 'utf8')).replace(/^.*\/\/ bench-change\n/gm, '');
  await writeFile(
    main,
    text.replace(
      'func main() {\n',
      `var benchChange = "${step}" // bench-change\nfunc main() {\n\tif len(benchChange) == 0 { return } // bench-change\n`,
    ),
  );
}
