import { rmdirSync, rmSync } from 'node:fs';

/**
 * What goci must undo when SIGINT or SIGTERM stops it: child process groups to kill (go build
 * and the compilers it starts) and temporary paths to remove. Work registers them while they
 * exist; a signal kills the groups, waits for them, removes the paths, prints one line and exits
 * 130 (SIGINT) or 143 (SIGTERM). A publish in progress finishes (or rolls back) first.
 */
interface Child {
  pid: number | undefined;
  exited: Promise<unknown>;
}

const children = new Set<Child>();
const temporaries = new Map<string, boolean>();
let critical = 0;
let pending: NodeJS.Signals | undefined;
let stopping = false;

/** Whether a signal asked goci to stop: work must not start anything new. */
export function stopRequested(): boolean {
  return stopping || pending !== undefined;
}

/** Tracks a child started in its own process group (`detached: true`) until it exits. */
export function trackChild(pid: number | undefined, exited: Promise<unknown>): () => void {
  const child = { pid, exited };
  children.add(child);
  return () => children.delete(child);
}

/**
 * Registers a temporary path removed on a signal (with `ifEmpty`, a directory goci created
 * that is removed only while empty); the returned function unregisters it.
 */
export function trackTemporary(path: string, ifEmpty = false): () => void {
  temporaries.set(path, ifEmpty);
  return () => temporaries.delete(path);
}

/** Runs `work` (a publish) to its end even when a signal arrives meanwhile, then honours the signal. */
export async function uninterrupted<T>(work: () => Promise<T>): Promise<T> {
  critical++;
  let done = false;
  try {
    const result = await work();
    done = true;
    return result;
  } finally {
    critical--;
    if (critical === 0 && pending) void stop(pending, done);
  }
}

async function stop(signal: NodeJS.Signals, published = false): Promise<void> {
  if (stopping) return;
  stopping = true;
  for (const child of children) {
    try {
      if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
  await Promise.all([...children].map((child) => child.exited.catch(() => undefined)));
  for (const [path, ifEmpty] of temporaries) {
    try {
      if (ifEmpty) rmdirSync(path);
      else rmSync(path, { recursive: true, force: true });
    } catch {
      // Best effort: the next run sweeps what a dead process left.
    }
  }
  const outputs = published ? 'after its outputs were written' : 'outputs are as they were';
  process.stderr.write(`goci: stopped by ${signal}; ${outputs} and temporary files were removed\n`);
  process.exit(signal === 'SIGINT' ? 130 : 143);
}

/** Installs the SIGINT and SIGTERM handlers (the CLI does this once). */
export function handleStopSignals(): void {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      if (critical > 0) pending ??= signal;
      else void stop(signal);
    });
  }
}
