import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { localSource } from '../frontend/llb/sources.js';
import { layerSteps } from '../frontend/layer-steps.js';
import { fileEntries, type FoundFile } from '../images/file-entries.js';
import type { FileSpec } from '../spec/schema.js';

const where = (path: string): string => `goci.yaml: ${path}`;
const context = localSource('context', { sessionId: 's', sharedKeyHint: 'context', excludePatterns: [] });

function spec(src: string, dst: string, mode: number | undefined, owner = 0): FileSpec {
  return { src, dst, mode, uid: owner, gid: owner, path: 'image.files[0]' };
}

describe('image.files entries (one rule for both doors)', () => {
  test('a file without a mode is 0644, or 0755 when it was executable; a set mode and owner are kept', () => {
    const found: FoundFile<string>[][] = [
      [{ type: 'file', relative: '', executable: false, source: 'a' }],
      [{ type: 'file', relative: '', executable: true, source: 'b' }],
      [{ type: 'file', relative: '', executable: true, source: 'c' }],
    ];
    const files = [spec('a', '/a', undefined), spec('b', '/b', undefined), spec('c', '/c', 0o640, 65532)];
    assert.deepEqual(fileEntries(files, found, where), [
      { type: 'file', path: '/a', mode: 0o644, uid: 0, gid: 0, source: 'a' },
      { type: 'file', path: '/b', mode: 0o755, uid: 0, gid: 0, source: 'b' },
      { type: 'file', path: '/c', mode: 0o640, uid: 65532, gid: 65532, source: 'c' },
    ]);
  });

  test('a directory and everything below it are 0755 directories, files and kept symlinks, owned as the spec says', () => {
    const found: FoundFile<string>[][] = [
      [
        { type: 'directory', relative: '' },
        { type: 'directory', relative: 'css' },
        { type: 'file', relative: 'css/site.css', executable: false, source: 'web/css/site.css' },
        { type: 'symlink', relative: 'home.html', target: 'index.html', source: 'web/home.html' },
      ],
    ];
    assert.deepEqual(fileEntries([spec('web', '/srv/web', undefined, 7)], found, where), [
      { type: 'directory', path: '/srv/web', mode: 0o755, uid: 7, gid: 7 },
      { type: 'directory', path: '/srv/web/css', mode: 0o755, uid: 7, gid: 7 },
      { type: 'file', path: '/srv/web/css/site.css', mode: 0o644, uid: 7, gid: 7, source: 'web/css/site.css' },
      { type: 'symlink', path: '/srv/web/home.html', target: 'index.html', uid: 7, gid: 7, source: 'web/home.html' },
    ]);
  });

  test('two sources copied to one destination are a BAD_SPEC', () => {
    const found: FoundFile<string>[][] = [
      [{ type: 'file', relative: '', executable: false, source: 'a' }],
      [{ type: 'file', relative: '', executable: false, source: 'b' }],
    ];
    assert.throws(() => fileEntries([spec('a', '/x', undefined), spec('b', '/x', undefined)], found, where), {
      code: 'BAD_SPEC',
      message: 'goci.yaml: image.files: two files are copied to /x',
    });
  });
});

describe('a layer as frontend file steps', () => {
  test('parents nobody lists are made first, 0755 and owned by root, then each entry with its mode and owner', () => {
    const steps = layerSteps(
      [
        { type: 'directory', path: '/srv/web', mode: 0o755, uid: 65532, gid: 65532 },
        {
          type: 'file',
          path: '/etc/server/app.conf',
          mode: 0o640,
          uid: 65532,
          gid: 65532,
          source: { from: context, path: '/config/app.conf' },
        },
        {
          type: 'symlink',
          path: '/srv/web/home.html',
          target: 'index.html',
          uid: 65532,
          gid: 65532,
          source: { from: context, path: '/web/home.html' },
        },
      ],
      1714564800,
    );
    const root = { mode: 0o755, uid: 0, gid: 0, timestamp: 1714564800 };
    const owner = { uid: 65532, gid: 65532, timestamp: 1714564800 };
    assert.deepEqual(steps, [
      { kind: 'mkdir', path: '/etc', ...root },
      { kind: 'mkdir', path: '/etc/server', ...root },
      { kind: 'mkdir', path: '/srv', ...root },
      { kind: 'mkdir', path: '/srv/web', mode: 0o755, ...owner },
      { kind: 'copy', from: context, src: '/config/app.conf', dest: '/etc/server/app.conf', mode: 0o640, ...owner },
      {
        kind: 'copy',
        from: context,
        src: '/web/home.html',
        dest: '/srv/web/home.html',
        followSymlink: false,
        ...owner,
      },
    ]);
  });
});
