type WarningWriter = (line: string) => void;

let writeWarning: WarningWriter = (line) => void process.stderr.write(line);

/** A line on stderr about something goci repaired on its own (it does not fail the run). */
export function warn(message: string): void {
  writeWarning(`goci: warning: ${message}\n`);
}

const warned = new Set<string>();

/** warn(), each message once per process: several specs of one repository share its version's doubts. */
export function warnOnce(message: string): void {
  if (warned.has(message)) return;
  warned.add(message);
  warn(message);
}

/**
 * Sends warnings through `writer` until the returned function is called: a live terminal
 * display (cli/progress.ts) prints them above itself, where its next redraw cannot overwrite them.
 */
export function routeWarnings(writer: WarningWriter): () => void {
  const previous = writeWarning;
  writeWarning = writer;
  return () => {
    writeWarning = previous;
  };
}
