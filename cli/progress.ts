import { Option } from 'commander';
import { routeWarnings } from '../common/warn.js';
import { formatSeconds, formatSize } from './table.js';
import type { Progress, ProgressEvent } from '../pipeline/progress.js';

export type { Progress, ProgressEvent };
export { uploadReporter, waitReporter } from '../pipeline/progress.js';

export type ProgressMode = 'plain' | 'tty' | 'json';

export function progressOption(): Option {
  return new Option(
    '--progress <mode>',
    'progress on stderr: tty (live, the default on a terminal), plain (lines), json (one object per line)',
  ).choices(['plain', 'tty', 'json']);
}

function describe(event: ProgressEvent, verbose: boolean): string | undefined {
  switch (event.kind) {
    case 'compile-start':
      return verbose ? `compiling ${event.target}: ${event.command}` : `compiling ${event.target}`;
    case 'compile-done':
      return `compiled ${event.target} (${formatSize(event.size)}, ${event.cached ? 'cached' : formatSeconds(event.seconds)})`;
    case 'image-start':
      return `assembling ${event.image} for ${event.platforms} platform${event.platforms === 1 ? '' : 's'}`;
    case 'image-done':
      return `assembled ${event.image} ${event.digest}`;
    case 'sink-done':
      return `wrote ${event.sink} ${event.where}`;
    case 'registry-wait':
      return describeWait(event);
    case 'upload': {
      const blobs = `${event.totalBlobs} blob${event.totalBlobs === 1 ? '' : 's'}`;
      return `uploaded ${formatSize(event.bytes)} to ${event.registry}/${event.repository} (${blobs}, ${formatSize(event.totalBytes)} in all)`;
    }
  }
}

function waitSeconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(1))}s`;
}

/** `registry asked to wait 30s (429), retrying`, or the backoff: `registry answered 503, retrying in 1.2s (2/5)`. */
function describeWait(event: Extract<ProgressEvent, { kind: 'registry-wait' }>): string {
  if (event.retryAfter) return `registry asked to wait ${waitSeconds(event.delayMs)} (${event.reason}), retrying`;
  const what = /^\d+$/.test(event.reason) ? `answered ${event.reason}` : `connection failed (${event.reason})`;
  return `registry ${what}, retrying in ${waitSeconds(event.delayMs)} (${event.attempt}/${event.attempts})`;
}

/** Lines on stderr, for logs; `--verbose` adds the exact go build command. */
function plainProgress(verbose: boolean, write: (text: string) => void): Progress {
  return { report: (event) => write(`goci: ${describe(event, verbose)}\n`), finish: () => undefined };
}

/** One object per line, each with the time it was reported (ISO 8601, UTC). */
function jsonProgress(write: (text: string) => void): Progress {
  return {
    report: (event) => write(`${JSON.stringify({ ...event, time: new Date().toISOString() })}\n`),
    finish: () => undefined,
  };
}

/** Whether an event's line is a step still under way, whose elapsed time the display counts. */
function isUnderWay(event: ProgressEvent): boolean {
  return event.kind === 'compile-start' || event.kind === 'image-start';
}

/** The key of an event's line: later events of the same target, image or sink replace it. */
function lineKey(event: ProgressEvent): string {
  if (event.kind === 'upload') return `upload ${event.registry}`;
  if ('target' in event) return event.target;
  if ('image' in event) return `image ${event.image}`;
  if ('sink' in event) return `sink ${event.sink}`;
  return `registry ${event.registry}`;
}

/** `text` cut to `width` characters, ending in … when cut: a line that wraps would break the redraw. */
function fit(text: string, width: number): string {
  return text.length <= width ? text : `${text.slice(0, Math.max(0, width - 1))}…`;
}

interface Line {
  text: string;
  /** When the step started (Date.now()), while it is under way. */
  since: number | undefined;
}

/**
 * A live block on a terminal: one line per target, rewritten in place as targets start and
 * finish, and a line for the current image step; a step under way shows its elapsed seconds,
 * redrawn each second. Each line fits the terminal's width and the block its height, so a redraw
 * always lands on the lines it drew. Cursor movement only; no colour.
 */
function ttyProgress(write: (text: string) => void, stream: NodeJS.WriteStream): Progress {
  const lines = new Map<string, Line>();
  let drawn = 0;
  const render = (line: Line, now: number): string => {
    const elapsed = line.since === undefined ? 0 : Math.floor((now - line.since) / 1000);
    return elapsed >= 1 ? `${line.text} (${elapsed}s)` : line.text;
  };
  const draw = (): void => {
    const width = Math.max(20, (stream.columns || 80) - 1);
    const room = Math.max(2, (stream.rows || 24) - 1);
    const now = Date.now();
    let shown = [...lines.values()].map((line) => fit(render(line, now), width));
    if (shown.length > room)
      shown = [fit(`… ${shown.length - room + 1} earlier lines`, width), ...shown.slice(1 - room)];
    write(`${drawn > 0 ? `\x1b[${drawn}F` : ''}${shown.map((line) => `\x1b[2K${line}\n`).join('')}`);
    if (shown.length < drawn) write('\x1b[0J');
    drawn = shown.length;
  };
  let ticker: NodeJS.Timeout | undefined;
  const tick = (): void => {
    const counting = [...lines.values()].some((line) => line.since !== undefined);
    if (counting && !ticker) ticker = setInterval(draw, 1000).unref();
    if (!counting && ticker) {
      clearInterval(ticker);
      ticker = undefined;
    }
  };
  // A warning (goci: warning: …) goes above the block: written into it, the next redraw would overwrite it.
  const restoreWarnings = routeWarnings((line) => {
    write(`${drawn > 0 ? `\x1b[${drawn}F\x1b[0J` : ''}${line}`);
    drawn = 0;
    draw();
  });
  return {
    report(event) {
      lines.set(lineKey(event), { text: describe(event, false)!, since: isUnderWay(event) ? Date.now() : undefined });
      tick();
      draw();
    },
    finish() {
      if (ticker) clearInterval(ticker);
      ticker = undefined;
      if (drawn > 0) write(`\x1b[${drawn}F\x1b[0J`);
      drawn = 0;
      restoreWarnings();
    },
  };
}

/** A terminal that cannot move its cursor (TERM=dumb, as Emacs shells and some CI logs set it) gets lines. */
function canRedraw(stream: NodeJS.WriteStream, env: NodeJS.ProcessEnv): boolean {
  return stream.isTTY === true && env.TERM !== 'dumb';
}

/** The display for this run: the asked-for mode, else live on a terminal and lines elsewhere. */
export function makeProgress(
  mode: ProgressMode | undefined,
  verbose: boolean,
  stream: NodeJS.WriteStream = process.stderr,
  env: NodeJS.ProcessEnv = process.env,
): Progress {
  const write = (text: string): void => void stream.write(text);
  const chosen = mode ?? (canRedraw(stream, env) ? 'tty' : 'plain');
  if (chosen === 'json') return jsonProgress(write);
  // Even asked for, a live display on a terminal that cannot redraw would be escape codes in the text.
  if (chosen === 'tty' && !verbose && env.TERM !== 'dumb') return ttyProgress(write, stream);
  return plainProgress(verbose, write);
}
