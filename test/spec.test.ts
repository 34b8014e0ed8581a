import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { GociError } from '../common/errors.js';
import { chooseImage } from '../spec/image-builds.js';
import { parseSpecText } from '../spec/load.js';

function specError(text: string): string {
  try {
    parseSpecText(text, 'goci.yaml', '/src/app');
  } catch (error) {
    assert.ok(error instanceof GociError);
    assert.equal(error.code, 'BAD_SPEC');
    return error.message;
  }
  assert.fail('expected a BAD_SPEC error');
}

describe('goci.yaml', () => {
  test('an empty file is one build of the directory itself, named after it', () => {
    const spec = parseSpecText('', 'goci.yaml', '/src/app');
    assert.equal(spec.builds.length, 1);
    assert.deepEqual(
      { id: spec.builds[0]!.id, binary: spec.builds[0]!.binary, dir: spec.builds[0]!.dir, main: spec.builds[0]!.main },
      { id: 'app', binary: 'app', dir: '.', main: '.' },
    );
    assert.deepEqual(spec.version, {
      variable: 'main.version',
      commitVariable: undefined,
      dateVariable: undefined,
      format: 'semver',
    });
  });

  test("a build's binary defaults to the last element of its main package", () => {
    const spec = parseSpecText('builds:\n  - main: ./cmd/api\n', 'goci.yaml', '/src/app');
    assert.equal(spec.builds[0]!.binary, 'api');
  });

  test('every field is read, env from a mapping or a NAME=value list', () => {
    const spec = parseSpecText(
      [
        'version: {variable: main.Version, commitVariable: main.Commit, dateVariable: example.com/x/build.Date}',
        'builds:',
        '  - id: api',
        '    dir: svc',
        '    main: ./cmd/api',
        '    binary: api-server',
        '    flags: [-v]',
        '    ldflags: ["-X main.os={{.Os}}"]',
        '    tags: [netgo, osusergo]',
        '    env: [GOFLAGS=-mod=mod, GOPRIVATE=x]',
        '    platforms: [linux/amd64]',
        '    buildvcs: false',
        '  - id: worker',
        '    env: {GODEBUG: madvdontneed=1}',
      ].join('\n'),
      'goci.yaml',
      '/src',
    );
    const [api, worker] = spec.builds;
    assert.deepEqual(spec.version, {
      variable: 'main.Version',
      commitVariable: 'main.Commit',
      dateVariable: 'example.com/x/build.Date',
      format: 'semver',
    });
    assert.deepEqual(api, {
      id: 'api',
      dir: 'svc',
      main: './cmd/api',
      binary: 'api-server',
      flags: ['-v'],
      ldflags: ['-X main.os={{.Os}}'],
      tags: ['netgo', 'osusergo'],
      env: { GOFLAGS: '-mod=mod', GOPRIVATE: 'x' },
      platforms: ['linux/amd64'],
      buildvcs: 'false',
      path: 'builds[0]',
    });
    assert.deepEqual(worker!.env, { GODEBUG: 'madvdontneed=1' });
  });

  test('an unknown field is reported with its path and the known fields', () => {
    assert.equal(
      specError('builds:\n  - id: a\n  - id: b\n    platfroms: [linux/amd64]\n'),
      'goci.yaml: builds[1].platfroms: unknown field; known fields here are id, dir, main, binary, flags, ldflags, tags, env, platforms, buildvcs',
    );
  });

  test('a wrong type is reported with its path and what was found', () => {
    assert.equal(
      specError('builds:\n  - platforms: [linux/amd64, 7]\n'),
      'goci.yaml: builds[0].platforms[1]: expected a non-empty string, found number 7',
    );
    assert.equal(specError('builds: {id: a}\n'), 'goci.yaml: builds: expected a list of builds, found a mapping');
  });

  test('a YAML syntax error names the file, line and column', () => {
    assert.match(specError('builds:\n  - id: [a\n'), /^goci\.yaml:\d+:\d+: /);
  });

  test('two builds with one binary name are refused', () => {
    assert.equal(
      specError('builds:\n  - main: ./a\n    binary: x\n  - main: ./b\n    binary: x\n'),
      'goci.yaml: builds[1].binary: "x" is already used by builds[0]; each build needs its own binary',
    );
  });

  test('a version variable must be importpath.name', () => {
    assert.equal(
      specError('version: {variable: version}\n'),
      'goci.yaml: version.variable: "version" is not a Go variable (write it as importpath.name, e.g. main.version)',
    );
  });

  test('env entries must be NAME=value', () => {
    assert.equal(
      specError('builds:\n  - env: [JUSTANAME]\n'),
      'goci.yaml: builds[0].env[0]: "JUSTANAME" is not NAME=value',
    );
  });

  test('image: is one image; images: is several, each at its own path', () => {
    assert.deepEqual(
      parseSpecText('image: {base: scratch}\n', 'goci.yaml', '/src').images.map((image) => [image.path, image.base]),
      [['image', 'scratch']],
    );
    const spec = parseSpecText(
      'images:\n  - {binaries: [a], tags: [edge]}\n  - {repository: b, base: static:root}\n',
      'goci.yaml',
      '/src',
    );
    assert.deepEqual(
      spec.images.map((image) => [image.path, image.binaries, image.tags, image.repository, image.base]),
      [
        ['images[0]', ['a'], ['edge'], undefined, 'static'],
        ['images[1]', undefined, undefined, 'b', 'static:root'],
      ],
    );
  });

  test('a required field left out is reported as missing, not as an internal error', () => {
    assert.equal(
      specError('image:\n  files: [{src: a}]\n'),
      'goci.yaml: image.files[0].dst: expected a non-empty string, found nothing',
    );
  });

  test('image and images together are refused', () => {
    assert.equal(
      specError('image: {}\nimages: [{}]\n'),
      'goci.yaml: images: image and images cannot both be given; move image into the images list',
    );
  });

  test('an empty images list and a bad image tag are refused where they are written', () => {
    assert.equal(
      specError('images: []\n'),
      'goci.yaml: images: the list is empty; remove it to make one image of every build',
    );
    assert.equal(
      specError('images:\n  - tags: [ok, "-bad"]\n'),
      `goci.yaml: images[0].tags[1]: "-bad" is not a valid tag (letters, digits, '_', '.', '-'; at most 128; not starting with '.' or '-')`,
    );
  });
});

describe('choosing one image of goci.yaml (docker build --target)', () => {
  const spec = parseSpecText(
    'builds: [{main: ./cmd/app}, {main: ./cmd/worker}]\nimages: [{binaries: [app]}, {binaries: [worker], repository: w}]\n',
    'goci.yaml',
    '/src',
  );

  test('the image named by its goci.yaml name', () => {
    assert.deepEqual(chooseImage(spec, 'w', '--target').binaries, ['worker']);
    assert.deepEqual(chooseImage(spec, 'app', '--target').binaries, ['app']);
  });

  test('no name with several images is refused, listing them', () => {
    assert.throws(() => chooseImage(spec, undefined, '--target'), {
      message: 'goci.yaml: images: 2 images (app, w)',
      hint: 'choose one with --target NAME',
    });
  });

  test('an unknown name lists the names there are', () => {
    assert.throws(() => chooseImage(spec, 'nope', '--target'), {
      message: '--target nope: no such image; the images are app, w',
    });
  });
});
