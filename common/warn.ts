type WarningWriter = (line: string) => void;

let writeWarning: WarningWriter = (line) => void process.stderr.write(line);

/** A line on stderr about something goci repaired on its own (it does not fail the run). */
export function warn(message: string): void {
  writeWarning(`goci: warning: ${message}\n`);
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
