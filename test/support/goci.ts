import { fileURLToPath } from 'node:url';
import { execa } from 'execa';

/** The bundled CLI, exactly what the package ships as its bin. */
export const CLI = fileURLToPath(new URL('../../goci.cjs', import.meta.url));
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

export interface RunResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** Runs the built goci CLI as a user would, never throwing on a non-zero exit; `input` is its standard input. */
export async function goci(
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string } = {},
): Promise<RunResult> {
  const result = await execa(process.execPath, [CLI, ...args], {
    cwd: options.cwd ?? REPO_ROOT,
    env: options.env ?? process.env,
    extendEnv: false,
    reject: false,
    // Standard input is empty unless the test types something into it.
    ...(options.input === undefined ? { stdin: 'ignore' as const } : { input: options.input }),
  });
  return { exitCode: result.exitCode ?? -1, stdout: result.stdout, stderr: result.stderr };
}

/** The single `goci: …` line a failure ends with. */
export function lastLine(text: string): string {
  return text.trimEnd().split('\n').at(-1) ?? '';
}
