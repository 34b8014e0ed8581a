import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { REPO_ROOT } from './support/goci.js';
import { folderCycles, folderEdges, sourceImports, type SourceImport } from './support/source-imports.js';

/** The layout DESIGN.md describes, checked on the code: data flows one way, the doors stay thin. */
describe('architecture: which folder may import which', () => {
  let imports: SourceImport[];
  let edges: string[];
  before(async () => {
    imports = await sourceImports(REPO_ROOT);
    edges = folderEdges(imports);
  });

  test('no two folders import each other, directly or through others', () => {
    assert.deepEqual(folderCycles(edges), []);
  });

  test('oci/ is a leaf: it imports nothing of goci but common/', () => {
    assert.deepEqual(
      edges.filter((edge) => edge.startsWith('oci -> ') && edge !== 'oci -> common'),
      [],
    );
  });

  test('registry/ (the distribution client) knows only oci/ and common/', () => {
    assert.deepEqual(
      edges.filter(
        (edge) => edge.startsWith('registry -> ') && !['registry -> oci', 'registry -> common'].includes(edge),
      ),
      [],
    );
  });

  test('no stage imports a door: cli/ and frontend/ are imported by nothing but cli/', () => {
    assert.deepEqual(
      edges.filter((edge) => / -> (cli|frontend)$/.test(edge) && !edge.startsWith('cli -> ')),
      [],
    );
  });

  test('no product code imports test fixtures', () => {
    assert.deepEqual(
      imports.filter((edge) => edge.to.startsWith('test/')),
      [],
    );
  });
});

describe('architecture: commands are flag wiring', () => {
  test('every cli/commands/*.ts is at most 80 lines', async () => {
    const dir = join(REPO_ROOT, 'cli', 'commands');
    const files = (await readdir(dir)).filter((name) => name.endsWith('.ts'));
    const long = [];
    for (const name of files) {
      const lines = (await readFile(join(dir, name), 'utf8')).split('\n').length - 1;
      if (lines > 80) long.push(`${name}: ${lines} lines`);
    }
    assert.deepEqual(long, []);
  });
});
