import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { access, constants, readFile, realpath, stat } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { writeFileAtomic } from '../common/atomic.js';
import { gociCacheDir } from '../common/cache-dir.js';
import { GociError } from '../common/errors.js';
import type { GoPort } from './platform.js';

/** What goci needs to know about the installed Go before it plans a build. */
export interface Toolchain {
  /** Absolute path of the `go` command that will run every build. */
  go: string;
  ports: GoPort[];
}

/** Finds `go` the way a shell would, so the error can say exactly what is missing. */
export async function findGo(env: NodeJS.ProcessEnv = process.env): Promise<string> {
  for (const dir of (env.PATH ?? '').split(delimiter).filter(Boolean)) {
    const candidate = join(dir, 'go');
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this PATH entry; keep looking
    }
  }
  throw new GociError('GO_MISSING', 'the go command was not found on PATH', {
    hint: 'install Go (on Debian/Ubuntu: apt-get install golang-go) or add its bin directory to PATH',
  });
}

interface DistPort {
  GOOS: string;
  GOARCH: string;
  FirstClass: boolean;
}

/** What `go tool dist list -json` says: the ports of the toolchain `go` runs. */
async function distList(go: string, env: NodeJS.ProcessEnv): Promise<GoPort[]> {
  const stdout = await new Promise<string>((resolve, reject) => {
    execFile(go, ['tool', 'dist', 'list', '-json'], { env, encoding: 'utf8' }, (error, out, stderr) => {
      if (!error) return resolve(out);
      reject(
        new GociError('GO_MISSING', `${go} did not answer "go tool dist list"`, {
          hint: 'check that the Go installation is complete (go version should work)',
          detail: stderr || String(error),
        }),
      );
    });
  });
  return (JSON.parse(stdout) as DistPort[]).map((port) => ({
    os: port.GOOS,
    arch: port.GOARCH,
    firstClass: port.FirstClass,
  }));
}

function isPortList(value: unknown): value is GoPort[] {
  return (
    Array.isArray(value) &&
    value.length > 0 &&
    value.every(
      (port: GoPort) =>
        typeof port?.os === 'string' && typeof port.arch === 'string' && typeof port.firstClass === 'boolean',
    )
  );
}

/**
 * The ports list changes only with the toolchain: it is kept in goci's cache under the go
 * binary (its real path, size and mtime) and the variables that pick another toolchain, which
 * spares a process start (go tool dist) on every run. Only a speed-up: any doubt asks go again.
 */
async function toolchainPorts(go: string, env: NodeJS.ProcessEnv): Promise<GoPort[]> {
  const binary = await realpath(go).catch(() => go);
  const info = await stat(binary).catch(() => undefined);
  if (!info) return distList(go, env);
  const identity = JSON.stringify([binary, info.size, info.mtimeMs, env.GOROOT ?? '', env.GOTOOLCHAIN ?? '']);
  const path = join(gociCacheDir(env), 'toolchains', `${createHash('sha256').update(identity).digest('hex')}.json`);
  const cached = await readFile(path, 'utf8').then(
    (text) => JSON.parse(text) as unknown,
    () => undefined,
  );
  if (isPortList(cached)) return cached;
  const ports = await distList(go, env);
  await writeFileAtomic(path, JSON.stringify(ports)).catch(() => undefined);
  return ports;
}

export async function readToolchain(env: NodeJS.ProcessEnv = process.env): Promise<Toolchain> {
  const go = await findGo(env);
  return { go, ports: await toolchainPorts(go, env) };
}

/** What the `go` on PATH says of one variable (`go env NAME`), as go itself reads it (go env -w included). */
export async function goEnv(name: string, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const go = await findGo(env);
  return new Promise<string>((resolve, reject) => {
    execFile(go, ['env', name], { env, encoding: 'utf8' }, (error, out, stderr) => {
      if (!error) return resolve(out.trim());
      reject(
        new GociError('GO_MISSING', `${go} did not answer "go env ${name}"`, {
          hint: 'check that the Go installation is complete (go version should work)',
          detail: stderr || String(error),
        }),
      );
    });
  });
}

/** GOROOT of the `go` on PATH: the toolchain goci's builds use. */
export async function goRoot(env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const root = await goEnv('GOROOT', env);
  if (root === '') throw new GociError('GO_MISSING', 'go env GOROOT is empty', { hint: 'check the Go installation' });
  return root;
}
