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

/** One Go line changed, the same way for every contender: the binaries change, nothing else does. */
export async function changeOneLine(source: string, step: number): Promise<void> {
  const main = join(source, 'main.go');
  const text = await readFile(main, 'utf8');
  await writeFile(
    main,
    text.replace(/\/\/ bench-change \d+\n/, '').replace('func main() {', `// bench-change ${step}\nfunc main() {`),
  );
}
