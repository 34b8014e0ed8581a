import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { markdownTable, type TableRow } from '../bench/table.js';

const row = (contender: string, scenario: string, seconds: number | undefined, uploadedBytes = 0): TableRow => ({
  example: 'server',
  contender,
  scenario,
  seconds,
  uploadedBytes,
  imageBytes: 6_234_567,
  reproducible: undefined,
});

describe('the comparison table', () => {
  test('gives each contender its median time and how many times goci it is, and what goci uploaded', () => {
    const rows = [
      row('goci', 'cold', 27.5, 6_200_000),
      row('Dockerfile (cross)', 'cold', 28),
      row('Dockerfile (emulated)', 'cold', 181.5),
      row('goci', 'warm', 0.25),
      row('Dockerfile (cross)', 'warm', 1),
    ];
    assert.equal(
      markdownTable(rows, ['goci', 'Dockerfile (cross)', 'Dockerfile (emulated)'], 'goci'),
      [
        '| example | scenario | goci | Dockerfile (cross) | Dockerfile (emulated) | goci uploaded | goci image |',
        '| --- | --- | ---: | ---: | ---: | ---: | ---: |',
        '| server | cold | 27.50 s | 28.00 s (×1.0) | 181.50 s (×6.6) | 6.2 MB | 6.2 MB |',
        '| server | warm | 0.25 s | 1.00 s (×4.0) | not run | 0.0 MB | 6.2 MB |',
        '',
      ].join('\n'),
    );
  });
});
