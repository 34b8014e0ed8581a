/** A line on stderr about something goci repaired on its own (it does not fail the run). */
export function warn(message: string): void {
  process.stderr.write(`goci: warning: ${message}\n`);
}
