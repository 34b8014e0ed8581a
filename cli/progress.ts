import { Option } from 'commander';
import { routeWarnings } from '../common/warn.js';
import { formatSeconds, formatSize } from './table.js';
import type { Progress, ProgressEvent } from '../pipeline/progress.js';

export type { Progress, ProgressEvent };
export { waitReporter } from '../pipeline/progress.js';

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

function jsonProgress(write: (text: string) => void): Progress {
  return { report: (event) => write(`${JSON.stringify(event)}\n`), finish: () => undefined };
}

/**
 * A live block on a terminal: one line per target, rewritten in place as targets start and
 * finish, and a line for the current image step. Cursor movement only; no colour.
 */
function ttyProgress(write: (text: string) => void): Progress {
  const lines = new Map<string, string>();
  let drawn = 0;
  const draw = (): void => {
    const text = [...lines.values()];
    write(`${drawn > 0 ? `\x1b[${drawn}F` : ''}${text.map((line) => `\x1b[2K${line}\n`).join('')}`);
    drawn = text.length;
  };
  // A warning (goci: warning: …) goes above the block: written into it, the next redraw would overwrite it.
  const restoreWarnings = routeWarnings((line) => {
    write(`${drawn > 0 ? `\x1b[${drawn}F\x1b[0J` : ''}${line}`);
    drawn = 0;
    draw();
  });
  return {
    report(event) {
      const key =
        'target' in event
          ? event.target
          : 'image' in event
            ? `image ${event.image}`
            : 'sink' in event
              ? `sink ${event.sink}`
              : `registry ${event.registry}`;
      lines.set(key, describe(event, false)!);
      draw();
    },
    finish() {
      if (drawn > 0) write(`\x1b[${drawn}F\x1b[0J`);
      drawn = 0;
      restoreWarnings();
    },
  };
}

/** The display for this run: the asked-for mode, else live on a terminal and lines elsewhere. */
export function makeProgress(
  mode: ProgressMode | undefined,
  verbose: boolean,
  stream: NodeJS.WriteStream = process.stderr,
): Progress {
  const write = (text: string): void => void stream.write(text);
  const chosen = mode ?? (stream.isTTY ? 'tty' : 'plain');
  if (chosen === 'json') return jsonProgress(write);
  if (chosen === 'tty' && !verbose) return ttyProgress(write);
  return plainProgress(verbose, write);
}
