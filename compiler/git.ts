import { stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { execFile } from 'node:child_process';

/** What the source tree's git history says about the code being built. */
export interface SourceState {
  commit: string | undefined;
  /** Unix seconds of the commit, the fallback for SOURCE_DATE_EPOCH. */
  commitTime: number | undefined;
  /** The nearest release tag reachable from HEAD, as written (`v1.2.3`). */
  tag: string | undefined;
  /** Commits between that tag and HEAD. */
  distance: number;
  /** Uncommitted changes, counted the way Go's vcs.modified counts them (untracked files too). */
  dirty: boolean;
  /** The `origin` remote as a browsable URL, credentials removed; the image's source label. */
  sourceUrl: string | undefined;
  /** A shallow clone (CI checkouts fetch one commit by default): tags and distances may be missing. */
  shallow: boolean;
}

export const NO_SOURCE_STATE: SourceState = {
  commit: undefined,
  commitTime: undefined,
  tag: undefined,
  distance: 0,
  dirty: false,
  sourceUrl: undefined,
  shallow: false,
};

/**
 * git's output, or undefined when it failed or is not installed. Node's execFile, not execa:
 * initialising execa's modules cost 9 ms of every run here.
 */
function git(dir: string, args: string[]): Promise<string | undefined> {
  return new Promise((resolve) => {
    // A large status (many untracked files) must not be cut off: cut, it would read as clean.
    execFile('git', args, { cwd: dir, encoding: 'utf8', maxBuffer: 2 ** 30 }, (error, stdout) =>
      resolve(error ? undefined : stdout.trim()),
    );
  });
}

/** Whether git ignores `path` in `dir`; undefined outside a repository (or without git). */
export function gitIgnores(dir: string, path: string): Promise<boolean | undefined> {
  return new Promise((resolve) =>
    execFile('git', ['check-ignore', '-q', path], { cwd: dir }, (error) =>
      // check-ignore exits 1 for a path it does not ignore, 128 when it cannot tell.
      resolve(error === null ? true : error.code === 1 ? false : undefined),
    ),
  );
}

/** Reads the state of the repository containing `dir`; outside a repository (or without git) it is empty. */
export async function readSourceState(dir: string, env: NodeJS.ProcessEnv = process.env): Promise<SourceState> {
  if (!(await mayBeInRepository(dir, env))) return NO_SOURCE_STATE;
  const [head, described, status, remote, shallow] = await Promise.all([
    git(dir, ['log', '-1', '--format=%H %ct']),
    git(dir, ['describe', '--tags', '--long', '--match', 'v[0-9]*', '--match', '[0-9]*']),
    git(dir, ['status', '--porcelain']),
    git(dir, ['remote', 'get-url', 'origin']),
    git(dir, ['rev-parse', '--is-shallow-repository']),
  ]);
  if (!head) return NO_SOURCE_STATE;
  const [commit, time] = head.split(' ');
  return {
    commit,
    commitTime: Number(time),
    ...parseDescribe(described),
    dirty: (status ?? '') !== '',
    sourceUrl: browsableUrl(remote),
    shallow: shallow === 'true',
  };
}

/**
 * Whether `dir` or a directory above it holds `.git` (a directory, or a file as in worktrees
 * and submodules), or the environment names a repository elsewhere. Outside any repository
 * that answer costs a few stat calls where asking git costs four process starts.
 */
async function mayBeInRepository(dir: string, env: NodeJS.ProcessEnv): Promise<boolean> {
  if (env.GIT_DIR !== undefined || env.GIT_WORK_TREE !== undefined) return true;
  return (await repositoryRoot(dir)) !== undefined;
}

/**
 * `git@host:org/repo.git` and `https://user:token@host/org/repo.git` both become
 * `https://host/org/repo`: what a person can open, and never a credential in an image label.
 * Local paths (a clone of a clone) are not sources anyone else can reach, so they give none.
 */
export function browsableUrl(remote: string | undefined): string | undefined {
  if (!remote) return undefined;
  const scp = /^(?:[^@/]+@)?([^:/]+):(?!\/)(.+)$/.exec(remote);
  let url: URL;
  try {
    url = new URL(scp && !remote.includes('://') ? `https://${scp[1]}/${scp[2]}` : remote);
  } catch {
    return undefined;
  }
  if (!['https:', 'http:', 'ssh:', 'git:'].includes(url.protocol)) return undefined;
  return `https://${url.hostname}${url.pathname.replace(/\.git$/, '').replace(/\/$/, '')}`;
}

/** `v1.2.3-rc.1-4-g1a2b3c4` → tag `v1.2.3-rc.1`, distance 4 (the tag itself may contain dashes). */
export function parseDescribe(described: string | undefined): { tag: string | undefined; distance: number } {
  const match = described?.match(/^(.*)-(\d+)-g[0-9a-f]+$/);
  return match ? { tag: match[1], distance: Number(match[2]) } : { tag: undefined, distance: 0 };
}

/** The top of the working tree holding `dir` (the nearest directory above with `.git`); undefined outside one. */
export async function repositoryRoot(dir: string): Promise<string | undefined> {
  for (let current = resolve(dir); ; current = dirname(current)) {
    if (
      await stat(join(current, '.git')).then(
        () => true,
        () => false,
      )
    )
      return current;
    if (dirname(current) === current) return undefined;
  }
}
