import { execa } from 'execa';

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
}

export const NO_SOURCE_STATE: SourceState = { commit: undefined, commitTime: undefined, tag: undefined, distance: 0, dirty: false };

async function git(dir: string, args: string[]): Promise<string | undefined> {
  const result = await execa('git', args, { cwd: dir, reject: false, stdin: 'ignore' }).catch(() => undefined);
  return result && result.exitCode === 0 ? result.stdout.trim() : undefined;
}

/** Reads the state of the repository containing `dir`; outside a repository (or without git) it is empty. */
export async function readSourceState(dir: string): Promise<SourceState> {
  const [head, described, status] = await Promise.all([
    git(dir, ['log', '-1', '--format=%H %ct']),
    git(dir, ['describe', '--tags', '--long', '--match', 'v[0-9]*', '--match', '[0-9]*']),
    git(dir, ['status', '--porcelain']),
  ]);
  if (!head) return NO_SOURCE_STATE;
  const [commit, time] = head.split(' ');
  return { commit, commitTime: Number(time), ...parseDescribe(described), dirty: (status ?? '') !== '' };
}

/** `v1.2.3-rc.1-4-g1a2b3c4` → tag `v1.2.3-rc.1`, distance 4 (the tag itself may contain dashes). */
export function parseDescribe(described: string | undefined): { tag: string | undefined; distance: number } {
  const match = described?.match(/^(.*)-(\d+)-g[0-9a-f]+$/);
  return match ? { tag: match[1], distance: Number(match[2]) } : { tag: undefined, distance: 0 };
}
