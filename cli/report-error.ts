import { isGociError } from '../common/errors.js';
import { fileSystemError } from '../common/io-error.js';

/** Usage mistakes exit 2, failures of the build itself exit 1, bugs in goci exit 70. */
const USAGE_CODES = new Set(['BAD_SPEC', 'BAD_PLATFORM', 'BAD_VERSION', 'BAD_ARGUMENT', 'BAD_TEMPLATE', 'NOT_FOUND']);

/**
 * Prints an error once. The supporting output (go's own messages) comes first, so the last
 * line a user or CI log shows is goci's single sentence of what went wrong and what to do.
 */
export function reportError(thrown: unknown, verbose: boolean): number {
  // A full disk, a read-only mount, a denied write: the environment's fault, said with the path (exit 1).
  const error = fileSystemError(thrown);
  if (isGociError(error)) {
    if (error.detail) process.stderr.write(`${error.detail}\n`);
    process.stderr.write(`goci: ${error.message}${error.hint ? ` (${error.hint})` : ''}\n`);
    return USAGE_CODES.has(error.code) ? 2 : 1;
  }
  const message = error instanceof Error ? (verbose ? (error.stack ?? error.message) : error.message) : String(error);
  process.stderr.write(`goci: internal error: ${message} (please report it with the command you ran)\n`);
  return 70;
}
