import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';

/** Wall time of one child process, in seconds; fails loudly if it fails. */
export function timeProcess(
  command: string,
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      if (code === 0) resolvePromise(seconds);
      else reject(new Error(`${command} ${args.join(' ')} exited ${code}: ${stderr}`));
    });
  });
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** Clock ticks per second of /proc's CPU times: USER_HZ, 100 on Linux's every architecture. */
const USER_HZ = 100;

/** User + system CPU seconds of a process's `/proc/PID/stat`: its own (fields 14, 15) or its waited-for children's (16, 17). */
async function procCpuSeconds(pid: number | 'self', whose: 'own' | 'children'): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (in parentheses, which may hold spaces) start at field 3.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const [user, system] = whose === 'own' ? [fields[11], fields[12]] : [fields[13], fields[14]];
  return (Number(user) + Number(system)) / USER_HZ;
}

/**
 * CPU seconds used so far by the processes this one has waited for, their own descendants
 * included (go's compilers and linker count towards go, go towards goci, goci towards us).
 */
export function childrenCpuSeconds(): Promise<number> {
  return procCpuSeconds('self', 'children');
}

/** CPU seconds a running process (a registry the bench started) has used so far. */
export function processCpuSeconds(pid: number): Promise<number> {
  return procCpuSeconds(pid, 'own');
}
