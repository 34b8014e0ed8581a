import { mkdir, mkdtemp } from 'node:fs/promises';
import { request } from 'node:http';
import { join } from 'node:path';
import { execa, type Result } from 'execa';
import { startDaemon } from './daemon.js';

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

/** process.env for a docker client of this daemon: its socket, a private config dir, no TLS or context settings. */
function clientEnv(socket: string, config: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, DOCKER_HOST: `unix://${socket}`, DOCKER_CONFIG: config };
  for (const name of ['DOCKER_CONTEXT', 'DOCKER_TLS_VERIFY', 'DOCKER_CERT_PATH']) delete env[name];
  return env;
}

/**
 * Starts dockerd and resolves once `/_ping` answers (typically 0.15-0.3 s; gives up after 180 s,
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

  const daemon = await startDaemon({
    name: 'dockerd',
    executable: DOCKERD,
    args: [
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
    env: { PATH: DAEMON_PATH, HOME: root },
    root,
    logPath,
    ready: () => ping(socket),
    readyText: `answer /_ping on ${socket}`,
  });
  return { socket, root, pid: daemon.pid, env: clientEnv(socket, config), stop: daemon.stop };
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
