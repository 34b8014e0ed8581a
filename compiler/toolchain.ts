import { access, constants } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { execa } from 'execa';
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

export async function readToolchain(env: NodeJS.ProcessEnv = process.env): Promise<Toolchain> {
  const go = await findGo(env);
  const list = await execa(go, ['tool', 'dist', 'list', '-json'], { env, extendEnv: false }).catch((error: unknown) => {
    throw new GociError('GO_MISSING', `${go} did not answer "go tool dist list"`, {
      hint: 'check that the Go installation is complete (go version should work)',
      detail: String((error as { stderr?: string }).stderr ?? error),
    });
  });
  const ports = (JSON.parse(list.stdout) as DistPort[]).map((port) => ({
    os: port.GOOS,
    arch: port.GOARCH,
    firstClass: port.FirstClass,
  }));
  return { go, ports };
}
