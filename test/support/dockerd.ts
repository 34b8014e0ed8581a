import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, closeSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { alive, waitForExit } from './process.js';
import { execa, type Result } from 'execa';

/**
 * A private Docker engine (Debian's docker.io 20.10 dockerd) for one test file, started as
 * DESIGN.md describes: its own data root, exec root, socket and pid file under a fresh
 * directory, no bridge and no iptables. Start it in `before`, stop it in `after`.
 */
export interface DockerdHarness {
  /** The daemon's unix socket. */
  socket: string;
  /** process.env plus DOCKER_HOST=unix://<socket> and a private DOCKER_CONFIG. */
  env: NodeJS.ProcessEnv;
  /** The directory everything lives in (data-root, exec-root, socket, pid file, log). */
  root: string;
  /** dockerd's pid. */
  pid: number;
  /** Stops dockerd (SIGTERM, then SIGKILL), the containerd it started and any shims, unmounts and removes its directory. */
  stop(): Promise<void>;
}

/** The 20.10 client that matches the daemon. /usr/local/bin/docker on this machine is a newer one. */
export const DOCKER_CLI = '/usr/bin/docker';
const DOCKERD = '/usr/sbin/dockerd';
const DAEMON_PATH = '/usr/sbin:/usr/bin:/sbin:/bin';
const START_TIMEOUT_MS = 180_000;
const STOP_TIMEOUT_MS = 15_000;
const KILL_TIMEOUT_MS = 5_000;

async function ping(socket: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ socketPath: socket, path: '/_ping', method: 'GET', timeout: 1000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode === 200));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
    req.end();
  });
}

/**
 * Pids of this daemon's leftovers: processes whose command line mentions `root` (containerd
 * and its shims, found by the daemon's unique directory) and all their descendants (the
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

/** process.env for a docker client of this daemon: its socket, a private config dir, no TLS or context settings. */
function clientEnv(socket: string, config: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, DOCKER_HOST: `unix://${socket}`, DOCKER_CONFIG: config };
  for (const name of ['DOCKER_CONTEXT', 'DOCKER_TLS_VERIFY', 'DOCKER_CERT_PATH']) delete env[name];
  return env;
}

function tailOf(text: string, lines = 15): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

/**
 * Starts dockerd and resolves once `/_ping` answers (typically 0.15-0.3 s; gives up after 30 s,
 * cleaning up, with the end of its log in the error).
 */
export async function startDockerd(): Promise<DockerdHarness> {
  // Short: the exec root holds containerd's sockets, and unix socket paths are limited to 107 bytes.
  const root = await mkdtemp('/tmp/gd-');
  const dataRoot = join(root, 'data');
  const execRoot = join(root, 'e');
  const socket = join(root, 'd.sock');
  const pidfile = join(root, 'd.pid');
  const logPath = join(root, 'dockerd.log');
  const config = join(root, 'cli');
  await mkdir(dataRoot);
  await mkdir(execRoot);
  await mkdir(config);

  const log = openSync(logPath, 'a');
  let child: ChildProcess;
  try {
    child = spawn(
      DOCKERD,
      [
        '--data-root',
        dataRoot,
        '--exec-root',
        execRoot,
        '-H',
        `unix://${socket}`,
        '--pidfile',
        pidfile,
        '--bridge=none',
        '--iptables=false',
      ],
      // Debian's containerd, runc and shims only, and no DOCKER_HOST or proxy settings from the test's environment.
      { stdio: ['ignore', log, log], env: { PATH: DAEMON_PATH, HOME: root } },
    );
  } finally {
    closeSync(log);
  }
  const spawnError = new Promise<Error>((resolve) => child.once('error', resolve));
  const pid = child.pid;

  // Safety net for a test process that ends without running `after` (a crash, process.exit):
  // a SIGTERMed dockerd still stops its containers and containerd and unmounts what it mounted.
  const onExit = (): void => {
    if (pid === undefined) return;
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      // already gone
    }
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
    // dockerd stops its containerd on SIGTERM; after a SIGKILL (or a crash) containerd and the
    // shims outlive it. They are found by this daemon's unique directory in their command line.
    for (const leftover of await processesUnder(root)) {
      try {
        process.kill(leftover, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    for (const leftover of await processesUnder(root)) await waitForExit(leftover, undefined, KILL_TIMEOUT_MS);
    // dockerd bind-mounts its data root onto itself and mounts overlays and netns files below;
    // a clean shutdown removes them, a killed daemon does not.
    for (const point of await mountsUnder(root)) {
      await execa('umount', ['-R', point], { reject: false });
      if ((await mountsUnder(point)).includes(point)) await execa('umount', ['-l', point], { reject: false });
    }
    await rm(root, { recursive: true, force: true, maxRetries: 3 });
  };

  const harness: DockerdHarness = {
    socket,
    root,
    pid: pid ?? -1,
    env: clientEnv(socket, config),
    stop,
  };

  const deadline = Date.now() + START_TIMEOUT_MS;
  let failure: string | undefined;
  for (;;) {
    const exited = child.exitCode !== null || child.signalCode !== null;
    if (exited) {
      failure = `dockerd exited (${child.exitCode ?? child.signalCode}) before answering /_ping`;
      break;
    }
    const error = await Promise.race([spawnError, sleep(0).then(() => undefined)]);
    if (error !== undefined) {
      failure = `cannot start dockerd: ${error.message}`;
      break;
    }
    if (await ping(socket)) return harness;
    if (Date.now() > deadline) {
      failure = `dockerd did not answer /_ping on ${socket} within ${START_TIMEOUT_MS / 1000} s`;
      break;
    }
    await sleep(100);
  }
  const logText = await readFile(logPath, 'utf8').catch(() => '');
  await stop();
  throw new Error(`${failure}\n${tailOf(logText)}`);
}

/** Runs the 20.10 docker client against the harness daemon; never throws on a non-zero exit. */
export async function docker(
  args: string[],
  harness: Pick<DockerdHarness, 'env'>,
  options: { timeoutMs?: number } = {},
): Promise<Result> {
  const timeout = options.timeoutMs ?? 900_000;
  return execa(DOCKER_CLI, args, { env: harness.env, extendEnv: false, reject: false, stdin: 'ignore', timeout });
}
