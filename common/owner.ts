import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { trackTemporary } from './interrupt.js';

/**
 * Names goci gives its temporary files, staging directories and locks carry their owner: the
 * pid and the process's start time (Linux: /proc/<pid>/stat; elsewhere "0"), so a later run can
 * tell the leftovers of a dead process (kill -9, power loss) from those of a live one, even
 * after the pid was reused.
 */
function procStat(pid: number): { state: string; start: string } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: count fields after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { state: fields[0]!, start: fields[19]! };
  } catch {
    return undefined;
  }
}

function startToken(pid: number): string | undefined {
  return procStat(pid)?.start ?? (process.platform === 'linux' ? undefined : '0');
}

let own: string | undefined;

/** `<pid>-<start token>` of this process. */
export function ownerTag(): string {
  own ??= `${process.pid}-${startToken(process.pid) ?? '0'}`;
  return own;
}

/** A name unique to this process and call: `<owner>-<random>`. */
export function ownedName(): string {
  return `${ownerTag()}-${randomBytes(6).toString('hex')}`;
}

/** Whether the process an owner tag names still runs (a reused pid with another start time does not count). */
export function ownerAlive(tag: string): boolean {
  const match = /^(\d+)-(\d+)$/.exec(tag);
  if (!match) return true;
  const pid = Number(match[1]);
  if (pid === process.pid) return match[2] === ownerTag().split('-')[1];
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false;
  }
  const stat = procStat(pid);
  // A zombie (killed, not yet reaped by its parent) holds nothing any more.
  if (stat?.state === 'Z') return false;
  return stat === undefined || match[2] === '0' || stat.start === match[2];
}

/** The owner tag inside a goci temporary name, e.g. `.x.goci-123-456-ab12.tmp` or `goci-compile-123-456-Xy9`. */
export function ownerOf(name: string): string | undefined {
  return /goci-(?:[a-z]+-)?(\d+-\d+)-[0-9A-Za-z]+(?:\.(?:tmp|old|stale))?$/.exec(name)?.[1];
}

/**
 * Removes the entries of `dir` that goci made for a process that no longer runs. Never fails:
 * sweeping is housekeeping, and another process may sweep the same entry at the same time.
 */
export async function sweepDeadOwners(dir: string, matches: (name: string) => boolean = () => true): Promise<void> {
  const names = await readdir(dir).catch(() => [] as string[]);
  for (const name of names) {
    const owner = ownerOf(name);
    if (owner === undefined || !matches(name) || ownerAlive(owner)) continue;
    await rm(join(dir, name), { recursive: true, force: true }).catch(() => undefined);
  }
}

/** What a scratch directory in $TMPDIR is for; its name starts `goci-<kind>-<owner>-`. */
export type ScratchKind = 'compile' | 'stage' | 'load';

/** Whether `name` (in $TMPDIR) is a goci scratch directory, for sweepDeadOwners. */
export function isScratchName(name: string): boolean {
  return /^goci-(compile|stage|load)-/.test(name);
}

/**
 * A scratch directory in $TMPDIR owned by this process: dispose() removes it, so does a
 * SIGINT/SIGTERM, and a later run sweeps it if this process dies first.
 */
export async function ownedScratch(kind: ScratchKind): Promise<{ dir: string; dispose(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), `goci-${kind}-${ownerTag()}-`));
  const forget = trackTemporary(dir);
  return {
    dir,
    async dispose() {
      await rm(dir, { recursive: true, force: true });
      forget();
    },
  };
}
