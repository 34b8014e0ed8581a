/**
 * The comparison as a Markdown table, written next to the chart so the README copies figures
 * from a file the benchmark wrote instead of retyping them.
 */

export interface TableRow {
  example: string;
  contender: string;
  scenario: string;
  seconds: number | undefined;
  uploadedBytes: number;
  imageBytes: number;
  reproducible: boolean | undefined;
}

/**
 * One line per example and scenario, one column per contender: the median time, and for the
 * others how many times goci's time it is. Then what goci uploaded and its image size.
 */
export function markdownTable(rows: TableRow[], contenders: readonly string[], reference: string): string {
  const lines = [
    `| example | scenario | ${contenders.join(' | ')} | ${reference} uploaded | ${reference} image |`,
    `| --- | --- | ${contenders.map(() => '---:').join(' | ')} | ---: | ---: |`,
  ];
  const keys = [...new Set(rows.map((row) => `${row.example}\u0000${row.scenario}`))];
  for (const key of keys) {
    const [example, scenario] = key.split('\u0000') as [string, string];
    const find = (contender: string): TableRow | undefined =>
      rows.find((row) => row.example === example && row.scenario === scenario && row.contender === contender);
    const ours = find(reference);
    const cells = contenders.map((contender) => {
      const seconds = find(contender)?.seconds;
      if (seconds === undefined) return 'not run';
      if (contender === reference || ours?.seconds === undefined) return `${seconds.toFixed(2)} s`;
      return `${seconds.toFixed(2)} s (×${(seconds / ours.seconds).toFixed(1)})`;
    });
    lines.push(
      `| ${example} | ${scenario} | ${cells.join(' | ')} | ${megabytes(ours?.uploadedBytes)} | ${megabytes(ours?.imageBytes)} |`,
    );
  }
  return `${lines.join('\n')}\n`;
}

function megabytes(bytes: number | undefined): string {
  return bytes === undefined ? '' : `${(bytes / 1e6).toFixed(1)} MB`;
}
