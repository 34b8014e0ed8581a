import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import { alive, waitForExit } from './process.js';

/**
 * A root daemon a test file starts for itself (dockerd, buildkitd): everything it owns lives in
 * one fresh directory, so what it leaves behind after a kill (containerd, shims, runc
 * containers, mounts) is found by that directory and cleaned up.
 */
export interface DaemonOptions {
  /** For messages: `dockerd`, `buildkitd`. */
  name: string;
  executable: string;
  args: string[];
  env: Record<string, string>;
  /** The daemon's own fresh directory; removed by stop(). */
  root: string;
  logPath: string;
  /** Whether the daemon answers yet; polled every 100 ms. */
  ready: () => Promise<boolean>;
  /** What ready() waits for, for messages: `answer /_ping on SOCKET`. */
  readyText: string;
}

export interface Daemon {
  pid: number;
  /** SIGTERM, then SIGKILL; kills its leftovers, unmounts and removes its directory. */
  stop(): Promise<void>;
}

/** Generous: a busy 2-core machine running two test suites may take long to start a daemon. */
const START_TIMEOUT_MS = 180_000;
const STOP_TIMEOUT_MS = 15_000;
const KILL_TIMEOUT_MS = 5_000;

/**
 * Pids of a daemon's leftovers: processes whose command line mentions `root` (containerd and
 * its shims, found by the daemon's unique directory) and all their descendants (the
 * containers' processes, whose shim is their parent or subreaper).
 */
export async function processesUnder(root: string): Promise<number[]> {
  const matched = new Set<number>();
  const children = new Map<number, number[]>();
  for (const name of await readdir('/proc').catch(() => [] as string[])) {
    if (!/^\d+$/.test(name)) continue;
    const pid = Number(name);
    if (pid === process.pid) continue;
    const cmdline = await readFile(join('/proc', name, 'cmdline'), 'utf8').catch(() => '');
    if (cmdline.split('\0').some((arg) => arg === root || arg.includes(`${root}/`))) matched.add(pid);
    // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so split after the last ')'.
    const stat = await readFile(join('/proc', name, 'stat'), 'utf8').catch(() => '');
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (Number.isInteger(ppid)) children.set(ppid, [...(children.get(ppid) ?? []), pid]);
  }
  const all = new Set<number>();
  const visit = (pid: number): void => {
    if (all.has(pid) || pid === process.pid) return;
    all.add(pid);
    for (const child of children.get(pid) ?? []) visit(child);
  };
  for (const pid of matched) visit(pid);
  return [...all];
}

/** Mount points at or below `root`, deepest first. */
export async function mountsUnder(root: string): Promise<string[]> {
  const text = await readFile('/proc/self/mountinfo', 'utf8').catch(() => '');
  const points = text
    .split('\n')
    .map((line) => line.split(' ')[4])
    .filter((point): point is string => point !== undefined && (point === root || point.startsWith(`${root}/`)))
    .map((point) => point.replace(/\\040/g, ' '));
  return [...new Set(points)].sort((a, b) => b.length - a.length);
}

function tailOf(text: string, lines = 15): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

function kill(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

/**
 * Starts the daemon and resolves once `ready()` says it answers; gives up after 180 s,
 * cleaning up, with the end of its log in the error.
 */
export async function startDaemon(options: DaemonOptions): Promise<Daemon> {
  const { name, root, logPath } = options;
  const log = openSync(logPath, 'a');
  let child: ChildProcess;
  try {
    child = spawn(options.executable, options.args, { stdio: ['ignore', log, log], env: options.env });
  } finally {
    closeSync(log);
  }
  const spawnError = new Promise<Error>((resolve) => child.once('error', resolve));
  const pid = child.pid;

  // Safety net for a test process that ends without running `after` (a crash, process.exit):
  // a SIGTERMed daemon still stops what it started and unmounts what it mounted.
  const onExit = (): void => {
    if (pid !== undefined) kill(pid, 'SIGTERM');
  };
  process.once('exit', onExit);

  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    process.removeListener('exit', onExit);
    if (pid !== undefined && (await alive(pid))) {
      process.kill(pid, 'SIGTERM');
      if (!(await waitForExit(pid, child, STOP_TIMEOUT_MS))) {
        process.kill(pid, 'SIGKILL');
        await waitForExit(pid, child, KILL_TIMEOUT_MS);
      }
    }
    // After a SIGKILL (or a crash) containerd, shims and runc containers outlive the daemon.
    for (const leftover of await processesUnder(root)) kill(leftover, 'SIGKILL');
    for (const leftover of await processesUnder(root)) await waitForExit(leftover, undefined, KILL_TIMEOUT_MS);
    // A clean shutdown unmounts overlays, snapshots and netns files; a killed daemon does not.
    for (const point of await mountsUnder(root)) {
      await execa('umount', ['-R', point], { reject: false });
      if ((await mountsUnder(point)).includes(point)) await execa('umount', ['-l', point], { reject: false });
    }
    await rm(root, { recursive: true, force: true, maxRetries: 3 });
  };

  const deadline = Date.now() + START_TIMEOUT_MS;
  let failure: string;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      failure = `${name} exited (${child.exitCode ?? child.signalCode}) before it would ${options.readyText}`;
      break;
    }
    const error = await Promise.race([spawnError, sleep(0).then(() => undefined)]);
    if (error !== undefined) {
      failure = `cannot start ${name}: ${error.message}`;
      break;
    }
    if (await options.ready()) return { pid: pid ?? -1, stop };
    if (Date.now() > deadline) {
      failure = `${name} did not ${options.readyText} within ${START_TIMEOUT_MS / 1000} s`;
      break;
    }
    await sleep(100);
  }
  const logText = await readFile(logPath, 'utf8').catch(() => '');
  await stop();
  throw new Error(`${failure}\n${tailOf(logText)}`);
}
