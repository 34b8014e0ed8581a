import { isGociError } from '../common/errors.js';
import { fileSystemError } from '../common/io-error.js';
import { PushError } from '../registry/push.js';

/** Usage mistakes exit 2, failures of the build itself exit 1, bugs in goci exit 70. */
const USAGE_CODES = new Set(['BAD_SPEC', 'BAD_PLATFORM', 'BAD_VERSION', 'BAD_ARGUMENT', 'BAD_TEMPLATE', 'NOT_FOUND']);

/** What `--json` prints on stdout when a command fails: one object, as CI parses a success. */
export interface JsonFailure {
  code: string;
  message: string;
  hint: string | null;
  exitCode: number;
  /** For a push: the tags that point at the new index now, and those that do not. */
  tags?: { updated: string[]; notUpdated: string[] };
}

/**
 * Prints an error once. The supporting output (go's own messages) comes first, so the last
 * line a user or CI log shows is goci's single sentence of what went wrong and what to do.
 * With `json`, stdout also gets the failure as one JSON object (stderr keeps its line).
 */
export function reportError(thrown: unknown, verbose: boolean, json = false): number {
  // A full disk, a read-only mount, a denied write: the environment's fault, said with the path (exit 1).
  const error = fileSystemError(thrown);
  if (isGociError(error)) {
    if (error.detail) process.stderr.write(`${error.detail}\n`);
    process.stderr.write(`goci: ${error.message}${error.hint ? ` (${error.hint})` : ''}\n`);
    const exitCode = USAGE_CODES.has(error.code) ? 2 : 1;
    const tags = error instanceof PushError ? { tags: error.tags } : {};
    const hint = error.hint ?? null;
    if (json) writeJsonFailure({ code: error.code, message: error.message, hint, exitCode, ...tags });
    return exitCode;
  }
  const message = error instanceof Error ? (verbose ? (error.stack ?? error.message) : error.message) : String(error);
  const hint = 'please report it with the command you ran';
  process.stderr.write(`goci: internal error: ${message} (${hint})\n`);
  const plain = error instanceof Error ? error.message : String(error);
  if (json) writeJsonFailure({ code: 'INTERNAL', message: `internal error: ${plain}`, hint, exitCode: 70 });
  return 70;
}

export function writeJsonFailure(failure: JsonFailure): void {
  process.stdout.write(`${JSON.stringify(failure, null, 2)}\n`);
}
