import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { startDaemon } from './daemon.js';
import { REPO_ROOT } from './goci.js';

/**
 * A private standalone BuildKit (v0.11.6, built from source by scripts/buildkit.sh) for one test
 * file: its own --root in a temp dir, a unix socket, the OCI worker (runc) with host networking,
 * no containerd worker, and a buildkitd.toml that lets it talk plain HTTP to loopback
 * registries. Docker 20.10's BuildKit exports one platform only; this one exports many.
 * Start it in `before`, stop it in `after`.
 */
export interface BuildkitdHarness {
  /** `unix://<socket>`, for buildctl --addr. */
  addr: string;
  /** The directory everything lives in (BuildKit's root, socket, config, log). */
  root: string;
  /** The directory holding buildctl and buildkitd. */
  bin: string;
  /** buildkitd's pid. */
  pid: number;
  /** Stops buildkitd by pid (SIGTERM, then SIGKILL) and runc containers it left, unmounts and removes its directory. */
  stop(): Promise<void>;
}

export const BUILDKIT_VERSION = 'v0.11.6';
const SCRIPT = join(REPO_ROOT, 'scripts', 'buildkit.sh');
/** Debian's runc is in /usr/sbin; buildctl and buildkitd come first. */
const DAEMON_PATH = '/usr/sbin:/usr/bin:/sbin:/bin';
/** scripts/buildkit.sh builds BuildKit in ~4.5 min on 2 cores the first time (then it is cached). */
const BUILD_TIMEOUT_MS = 1_800_000;

/**
 * Why the BuildKit tests cannot run here, in one line, or undefined when GOCI_BUILDKIT_BIN or
 * GOCI_BUILDKIT_SRC says where BuildKit is (no package manager here has it).
 */
export function buildkitSkipReason(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.GOCI_BUILDKIT_BIN || env.GOCI_BUILDKIT_SRC) return undefined;
  return (
    `no standalone BuildKit ${BUILDKIT_VERSION}: set GOCI_BUILDKIT_SRC to a moby/buildkit checkout ` +
    'or bare repository (or GOCI_BUILDKIT_BIN to its built binaries) and run npm run e2e:buildkit'
  );
}

/**
 * The directory holding buildctl and buildkitd v0.11.6, from scripts/buildkit.sh: GOCI_BUILDKIT_BIN
 * as it is, or the cache it builds from GOCI_BUILDKIT_SRC (once, under a lock; minutes the first
 * time). Undefined when neither is set (see buildkitSkipReason); throws when the script refuses.
 */
export async function buildkitBinaries(env: NodeJS.ProcessEnv = process.env): Promise<string | undefined> {
  if (buildkitSkipReason(env) !== undefined) return undefined;
  // Progress ("building … (a few minutes)") goes to the test's stderr; stdout is the directory.
  const result = await execa('bash', [SCRIPT], {
    env,
    extendEnv: false,
    reject: false,
    stdin: 'ignore',
    stderr: 'inherit',
    timeout: BUILD_TIMEOUT_MS,
  });
  if (result.exitCode !== 0) throw new Error(`scripts/buildkit.sh exited ${result.exitCode ?? result.signal}`);
  const bin = String(result.stdout).trim();
  if (bin === '' || bin.includes('\n')) {
    throw new Error(`scripts/buildkit.sh printed ${JSON.stringify(result.stdout)}, not one directory`);
  }
  return bin;
}

/** buildkitd.toml: plain HTTP (and no TLS verification) for each `host:port`. */
function configToml(insecureRegistries: readonly string[]): string {
  const lines = ['[worker.oci]', '  gc = false', '[worker.containerd]', '  enabled = false'];
  for (const host of insecureRegistries) {
    lines.push(`[registry.${JSON.stringify(host)}]`, '  http = true', '  insecure = true');
  }
  return `${lines.join('\n')}\n`;
}

export interface BuildkitdOptions {
  /** `host:port` registries buildkitd reaches over plain HTTP (the loopback test registry). */
  insecureRegistries?: readonly string[];
}

export interface BuildctlResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** What `buildctl build` needs to build a goci.yaml through goci's frontend image. */
export interface FrontendBuild {
  /** The frontend image, as BuildKit pulls it (`REGISTRY/goci/frontend:TAG`). */
  frontend: string;
  /** The directory holding goci.yaml: the build context. */
  dir: string;
  platforms: string;
  goImage: string;
  version: string;
  epoch: string;
  /** Where the image goes: `REGISTRY/NAME:TAG`, pushed. */
  name: string;
  /** More `--opt` values (`build-arg:X=Y`, …). */
  extraOpts?: string[];
}

/** The `buildctl build` arguments of a FrontendBuild (gateway.v0, plain progress, pushed to an insecure registry). */
export function frontendBuildArgs(build: FrontendBuild): string[] {
  return [
    'build',
    '--progress',
    'plain',
    '--frontend',
    'gateway.v0',
    '--opt',
    `source=${build.frontend}`,
    '--local',
    `context=${build.dir}`,
    '--local',
    `dockerfile=${build.dir}`,
    '--opt',
    'filename=goci.yaml',
    '--opt',
    `platform=${build.platforms}`,
    '--opt',
    `build-arg:GO_IMAGE=${build.goImage}`,
    '--opt',
    `build-arg:VERSION=${build.version}`,
    '--opt',
    `build-arg:SOURCE_DATE_EPOCH=${build.epoch}`,
    ...(build.extraOpts ?? []).flatMap((opt) => ['--opt', opt]),
    '--output',
    `type=image,name=${build.name},push=true,registry.insecure=true`,
  ];
}

/** Runs buildctl against the harness daemon; never throws on a non-zero exit. */
export async function buildctl(
  harness: Pick<BuildkitdHarness, 'addr' | 'bin'>,
  args: string[],
  options: { timeoutMs?: number } = {},
): Promise<BuildctlResult> {
  const result = await execa(join(harness.bin, 'buildctl'), ['--addr', harness.addr, ...args], {
    env: { PATH: DAEMON_PATH, HOME: process.env.HOME ?? '/root' },
    extendEnv: false,
    reject: false,
    stdin: 'ignore',
    timeout: options.timeoutMs ?? 1_200_000,
  });
  return { exitCode: result.exitCode ?? -1, stdout: String(result.stdout ?? ''), stderr: String(result.stderr ?? '') };
}

/** Whether `buildctl debug workers` answers with at least one worker. */
async function answers(harness: Pick<BuildkitdHarness, 'addr' | 'bin'>): Promise<boolean> {
  const result = await buildctl(harness, ['debug', 'workers'], { timeoutMs: 10_000 });
  return result.exitCode === 0 && result.stdout.trim().split('\n').length > 1;
}

/**
 * Starts buildkitd (as root: the OCI worker runs runc) from `bin` and resolves once `buildctl
 * debug workers` lists a worker (typically well under a second; gives up after 180 s, cleaning
 * up, with the end of its log in the error).
 */
export async function startBuildkitd(bin: string, options: BuildkitdOptions = {}): Promise<BuildkitdHarness> {
  // Short: unix socket paths are limited to 107 bytes.
  const root = await mkdtemp('/tmp/gbk-');
  const stateRoot = join(root, 'root');
  const socket = join(root, 'b.sock');
  const configPath = join(root, 'buildkitd.toml');
  const logPath = join(root, 'buildkitd.log');
  await mkdir(stateRoot);
  await writeFile(configPath, configToml(options.insecureRegistries ?? []));
  const addr = `unix://${socket}`;

  const daemon = await startDaemon({
    name: 'buildkitd',
    executable: join(bin, 'buildkitd'),
    args: [
      '--root',
      stateRoot,
      '--addr',
      addr,
      '--config',
      configPath,
      '--oci-worker-net=host',
      '--containerd-worker=false',
    ],
    // Debian's runc only, and no proxy or registry settings from the test's environment.
    env: { PATH: `${bin}:${DAEMON_PATH}`, HOME: root },
    root,
    logPath,
    ready: () => answers({ addr, bin }),
    readyText: `answer buildctl debug workers on ${addr}`,
  });
  return { addr, root, bin, pid: daemon.pid, stop: daemon.stop };
}
