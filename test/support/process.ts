import type { ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Whether `pid` is a live process: signal 0 reaches it (EPERM still means it exists) and
 * /proc does not show it as a zombie, which a reaped-later child or a root-owned one can be.
 */
export async function alive(pid: number): Promise<boolean> {
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  return stat !== '' && stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
}

/** Waits up to `timeoutMs` for `pid` to end; `child`, when it is that process, says so without polling /proc. */
export async function waitForExit(pid: number, child: ChildProcess | undefined, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child !== undefined && child.pid === pid && (child.exitCode !== null || child.signalCode !== null)) return true;
    if (!(await alive(pid))) return true;
    await sleep(25);
  }
  return false;
}
