import { readFile, realpath, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { hostGoarch } from './platform.js';

/**
 * What names the Go toolchain without running it (running `go env` costs more than a cache hit
 * saves): the go command, the compiler and the linker by path, size, inode and mtime, and
 * GOROOT's VERSION. An upgrade or reinstall changes at least one of them. Undefined when the
 * layout is not the usual GOROOT/bin/go, so goci does not cache what it cannot name.
 */
export async function toolchainIdentity(go: string, env: NodeJS.ProcessEnv): Promise<string | undefined> {
  try {
    const { command, goroot } = await locateToolchain(go, env);
    const toolDir = join(goroot, 'pkg', 'tool', `${hostGoos()}_${hostGoarch()}`);
    const files = [command, join(toolDir, 'compile'), join(toolDir, 'link'), join(toolDir, 'asm')];
    const stats = await Promise.all(
      files.map(async (file) => {
        const info = await stat(file);
        return `${file} ${info.size} ${info.ino} ${info.mtimeMs}`;
      }),
    );
    return [...stats, (await versionFile(goroot)).trim()].join('\n');
  } catch {
    return undefined;
  }
}

/** The toolchain's release (`go1.19.8`) from GOROOT/VERSION, without starting go; undefined when it is not there. */
export async function toolchainVersion(go: string, env: NodeJS.ProcessEnv): Promise<string | undefined> {
  try {
    const { goroot } = await locateToolchain(go, env);
    return (await versionFile(goroot)).split('\n')[0]?.trim() || undefined;
  } catch {
    return undefined;
  }
}

/** The go command with symlinks resolved, and its GOROOT (GOROOT, else the directory above its bin/). */
async function locateToolchain(go: string, env: NodeJS.ProcessEnv): Promise<{ command: string; goroot: string }> {
  const command = await realpath(go);
  return { command, goroot: env.GOROOT || dirname(dirname(command)) };
}

/** GOROOT/VERSION as written ('' without one), read once per run: the binary cache and the compile both ask. */
const versionFiles = new Map<string, Promise<string>>();
function versionFile(goroot: string): Promise<string> {
  let text = versionFiles.get(goroot);
  if (!text) {
    text = readFile(join(goroot, 'VERSION'), 'utf8').catch(() => '');
    versionFiles.set(goroot, text);
  }
  return text;
}

/** Settings `go env -w` wrote (GOFLAGS, GOAMD64, …): they change builds without being in the environment. */
export async function goEnvFile(env: NodeJS.ProcessEnv): Promise<string> {
  if (env.GOENV === 'off') return '';
  const path = env.GOENV || join(env.XDG_CONFIG_HOME || join(env.HOME || homedir(), '.config'), 'go', 'env');
  return readFile(path, 'utf8').catch(() => '');
}

function hostGoos(): string {
  return process.platform === 'win32' ? 'windows' : process.platform;
}
