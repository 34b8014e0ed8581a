import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { localSource } from '../frontend/llb/sources.js';
import { layerSteps } from '../frontend/layer-steps.js';
import { fileEntries, type FoundFile } from '../images/file-entries.js';
import type { FileSpec, ImageSpec } from '../spec/schema.js';

const where = (path: string): string => `goci.yaml: ${path}`;
const context = localSource('context', { sessionId: 's', sharedKeyHint: 'context', excludePatterns: [] });

function spec(src: string, dst: string, mode: number | undefined, owner = 0, dirMode?: number): FileSpec {
  return { src, dst, mode, dirMode, uid: owner, gid: owner, path: 'image.files[0]' };
}

/** An image section holding `files` and nothing else. */
function image(files: FileSpec[], more: Partial<Pick<ImageSpec, 'directories' | 'volumes'>> = {}) {
  return { files, directories: [], volumes: [], path: 'image', ...more };
}

describe('image.files entries (one rule for both doors)', () => {
  test('a file without a mode is 0644, or 0755 when it was executable; a set mode and owner are kept', () => {
    const found: FoundFile<string>[][] = [
      [{ type: 'file', relative: '', executable: false, source: 'a' }],
      [{ type: 'file', relative: '', executable: true, source: 'b' }],
      [{ type: 'file', relative: '', executable: true, source: 'c' }],
    ];
    const files = [spec('a', '/a', undefined), spec('b', '/b', undefined), spec('c', '/c', 0o640, 65532)];
    assert.deepEqual(fileEntries(image(files), found, where, ''), [
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
    assert.deepEqual(fileEntries(image([spec('web', '/srv/web', undefined, 7)]), found, where, ''), [
      { type: 'directory', path: '/srv/web', mode: 0o755, uid: 7, gid: 7 },
      { type: 'directory', path: '/srv/web/css', mode: 0o755, uid: 7, gid: 7 },
      { type: 'file', path: '/srv/web/css/site.css', mode: 0o644, uid: 7, gid: 7, source: 'web/css/site.css' },
      { type: 'symlink', path: '/srv/web/home.html', target: 'index.html', uid: 7, gid: 7, source: 'web/home.html' },
    ]);
  });

  test("a copied tree's directories take dirMode, its files mode", () => {
    const found: FoundFile<string>[][] = [
      [
        { type: 'directory', relative: '' },
        { type: 'file', relative: 'run.sh', executable: true, source: 'bin/run.sh' },
      ],
    ];
    assert.deepEqual(fileEntries(image([spec('bin', '/opt/bin', 0o750, 0, 0o711)]), found, where, ''), [
      { type: 'directory', path: '/opt/bin', mode: 0o711, uid: 0, gid: 0 },
      { type: 'file', path: '/opt/bin/run.sh', mode: 0o750, uid: 0, gid: 0, source: 'bin/run.sh' },
    ]);
  });

  test("empty directories: as listed, and one per volume nothing else makes, owned by the image's user", () => {
    const directories = [
      { dst: '/var/cache/app', mode: 0o700, owner: { uid: 10, gid: 20 }, path: 'image.directories[0]' },
      { dst: '/var/lib/app', mode: 0o750, owner: undefined, path: 'image.directories[1]' },
    ];
    const volumes = ['/var/lib/app', '/var/lib/registry'];
    assert.deepEqual(fileEntries(image([], { directories, volumes }), [], where, '65532'), [
      { type: 'directory', path: '/var/cache/app', mode: 0o700, uid: 10, gid: 20 },
      { type: 'directory', path: '/var/lib/app', mode: 0o750, uid: 65532, gid: 65532 },
      { type: 'directory', path: '/var/lib/registry', mode: 0o755, uid: 65532, gid: 65532 },
    ]);
    assert.deepEqual(fileEntries(image([], { volumes: ['/data'] }), [], where, '1000:2000'), [
      { type: 'directory', path: '/data', mode: 0o755, uid: 1000, gid: 2000 },
    ]);
  });

  test('a volume of an image whose user is a name needs a numeric owner', () => {
    assert.throws(() => fileEntries(image([], { volumes: ['/data'] }), [], where, 'nonroot'), {
      code: 'BAD_SPEC',
      message: 'goci.yaml: image.volumes[0]: the image runs as "nonroot", a name, so goci cannot tell its uid',
    });
  });

  test('two sources copied to one destination are a BAD_SPEC', () => {
    const found: FoundFile<string>[][] = [
      [{ type: 'file', relative: '', executable: false, source: 'a' }],
      [{ type: 'file', relative: '', executable: false, source: 'b' }],
    ];
    assert.throws(
      () => fileEntries(image([spec('a', '/x', undefined), spec('b', '/x', undefined)]), found, where, ''),
      {
        code: 'BAD_SPEC',
        message: 'goci.yaml: image.files: two files are copied to /x',
      },
    );
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
