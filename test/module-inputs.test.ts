import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { localReplacements, readModuleInputs } from '../compiler/module-inputs.js';
import { removeDirectory, temporaryDirectory } from './support/workspace.js';

const MAIN_GO = 'package main\n\nfunc main() {}\n';

/** A module using every kind of input go build reads, and files it never reads. */
const TREE: Record<string, string> = {
  'app/go.mod': 'module example.com/app\n\ngo 1.19\n\nreplace example.com/lib => ../lib // local checkout\n',
  'app/go.sum': '',
  'app/main.go': MAIN_GO,
  'app/asm_amd64.s': '#include "textflag.h"\n',
  'app/textflag.h': '',
  'app/rsrc_windows_amd64.syso': 'object',
  'app/default.pgo': 'profile',
  'app/README.md': 'not an input',
  'app/docs/guide.md': 'not an input',
  'app/web/web.go': 'package web\n\nimport "embed"\n\n//go:embed static\nvar Static embed.FS\n',
  'app/web/static/index.html': '<html>',
  'app/web/static/.hidden': 'embedded with all: patterns',
  'app/web/notes.txt': 'in the embedding package: included',
  'app/vendor/modules.txt': '# example.com/dep v1.0.0\n',
  'app/vendor/example.com/dep/LICENSE': 'vendored',
  'app/nested/go.mod': 'module example.com/app/nested\n',
  'app/nested/nested.go': 'package nested\n',
  'app/.git/HEAD': 'ref: refs/heads/main\n',
  'app/dist/bin/app-linux-amd64': 'a binary goci wrote',
  'lib/go.mod': 'module example.com/lib\n',
  'lib/lib.go': 'package lib\n',
  'lib/README.md': 'not an input',
};

let work: string;

before(async () => {
  work = await temporaryDirectory('module-inputs');
  for (const [path, content] of Object.entries(TREE)) {
    await mkdir(dirname(join(work, path)), { recursive: true });
    await writeFile(join(work, path), content);
  }
});
after(async () => removeDirectory(work));

const paths = (lines: string[]): string[] => lines.map((line) => line.split(' ')[0]!);

describe('the inputs of a module', () => {
  test('are its source, module and vendored files, embedding packages whole, and local replacements; not docs, nested modules, .git or dist', async () => {
    const inputs = await readModuleInputs(join(work, 'app'), [join(work, 'app', 'dist')], {});
    assert.deepEqual(paths(inputs!.lines), [
      'asm_amd64.s',
      'default.pgo',
      'go.mod',
      'go.sum',
      'main.go',
      'replace0:go.mod',
      'replace0:lib.go',
      'rsrc_windows_amd64.syso',
      'textflag.h',
      'vendor/example.com/dep/LICENSE',
      'vendor/modules.txt',
      'web/notes.txt',
      'web/static/.hidden',
      'web/static/index.html',
      'web/web.go',
    ]);
  });

  test('name each file by the sha256 of its content', async () => {
    const inputs = await readModuleInputs(join(work, 'app'), [], {});
    assert.ok(inputs!.lines.includes(`main.go ${createHash('sha256').update(MAIN_GO).digest('hex')}`));
  });

  test('cannot be named inside a go.work workspace, which pulls in other modules', async () => {
    await writeFile(join(work, 'go.work'), 'go 1.19\n\nuse ./app\n');
    try {
      assert.equal(await readModuleInputs(join(work, 'app'), [], {}), undefined);
      assert.notEqual(await readModuleInputs(join(work, 'app'), [], { GOWORK: 'off' }), undefined);
    } finally {
      await removeDirectory(join(work, 'go.work'));
    }
  });

  test('cannot be named when GOWORK names a workspace file', async () => {
    assert.equal(await readModuleInputs(join(work, 'app'), [], { GOWORK: join(work, 'elsewhere.work') }), undefined);
  });

  test('cannot be named without a go.mod (GOPATH mode)', async () => {
    assert.equal(await readModuleInputs(join(work, 'app', 'docs'), [], {}), undefined);
  });
});

describe('local replace directives', () => {
  test('are the directory targets, single-line and in blocks, quoted or not; module targets are not', () => {
    const goMod = [
      'module example.com/app',
      'replace example.com/a => ../a',
      'replace (',
      '\texample.com/b v1.2.0 => ./third_party/b',
      '\texample.com/c => "/src/c"',
      '\texample.com/d => example.com/fork/d v1.0.1',
      ')',
      '// replace example.com/e => ../e',
    ].join('\n');
    assert.deepEqual(localReplacements(goMod), ['../a', './third_party/b', '/src/c']);
  });
});
