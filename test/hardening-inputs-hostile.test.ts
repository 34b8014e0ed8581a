import assert from 'node:assert/strict';
import { mkdir, realpath, rm, symlink, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { execa } from 'execa';
import { goci, lastLine } from './support/goci.js';
import { treeFingerprint } from './support/layer-entries.js';
import { removeDirectory, temporaryDirectory } from './support/workspace.js';

/**
 * Issue 10, the hostile goci.yaml table: every case fails with one exact `goci:` line and exit
 * code, before anything compiles, and leaves dist/ and goci's cache exactly as they were.
 */

const GO_MOD = 'module example.com/app\n\ngo 1.19\n';
const MAIN = 'package main\n\nimport "fmt"\n\nvar version = "dev"\n\nfunc main() { fmt.Println(version) }\n';
const made: string[] = [];
const servers: Server[] = [];
let shared: string;
let dist: string;
let cache: string;

after(async () => {
  for (const server of servers) server.close();
  await Promise.all(made.map(removeDirectory));
});

/** dist/ and the cache hold a real earlier build, so "unchanged" is about something. */
before(async () => {
  shared = await realpath(await temporaryDirectory('hostile-shared'));
  made.push(shared);
  dist = join(shared, 'dist');
  cache = join(shared, 'cache');
  const seed = join(shared, 'seed');
  await mkdir(join(seed, 'web'), { recursive: true });
  await writeFile(join(seed, 'go.mod'), GO_MOD);
  await writeFile(join(seed, 'main.go'), MAIN);
  await writeFile(join(seed, 'web', 'index.html'), '<h1>hi</h1>\n');
  await writeFile(join(seed, 'goci.yaml'), 'image:\n  files:\n    - {src: web, dst: /srv/web}\n');
  const env = { ...process.env, GOCI_CACHE_DIR: cache };
  const result = await goci(['build', '--version', '1.0.0', '--dist', dist], { cwd: seed, env });
  assert.equal(result.exitCode, 0, result.stderr);
});

interface Case {
  name: string;
  /** goci.yaml's text (or bytes). */
  yaml: string | Buffer;
  /** Makes files, links, devices in the module directory `app` (its parent holds `secret`). */
  setup?: (app: string) => Promise<void>;
  env?: Record<string, string>;
  args?: string[];
  /** The exact last stderr line; `APP` stands for the module directory's real path. */
  message: string;
  exitCode: number;
}

const FILES = (src: string): string => `image:\n  files:\n    - {src: ${JSON.stringify(src)}, dst: /srv/x}\n`;
const BUILD = (field: string): string => `builds:\n  - ${field}\n`;
const OUTSIDE_HINT = '(name only files inside the build context, or widen it with --context DIR)';
const NOT_COPYABLE =
  'only regular files, directories and symlinks can be copied into an image (leave it out of image.files)';

/** The billion laughs: nine levels of nine aliases each expand to 9^9 strings. */
function aliasBomb(): string {
  const lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
  for (let level = 1; level < 9; level++) {
    const previous = String.fromCharCode(96 + level);
    const name = String.fromCharCode(97 + level);
    lines.push(`${name}: &${name} [${Array(9).fill(`*${previous}`).join(', ')}]`);
  }
  return `${lines.join('\n')}\n`;
}

async function webWith(app: string, name: string, make: (path: string) => Promise<unknown>): Promise<void> {
  await mkdir(join(app, 'web'), { recursive: true });
  await writeFile(join(app, 'web', 'index.html'), 'ok\n');
  await make(join(app, 'web', name));
}

const CASES: Case[] = [
  {
    name: 'a source escaping with ..',
    yaml: FILES('../secret'),
    message:
      `goci: goci.yaml: image.files[0].src: "../secret" resolves to PARENT/secret, outside the build context APP ` +
      `${OUTSIDE_HINT}`,
    exitCode: 2,
  },
  {
    name: 'an absolute source',
    yaml: FILES('/etc/passwd'),
    message:
      'goci: goci.yaml: image.files[0].src: "/etc/passwd" is an absolute path; sources are relative to the goci.yaml ' +
      'directory and stay inside the build context (see the goci.yaml reference in the README)',
    exitCode: 2,
  },
  {
    name: 'a source that is a symlink out of the context',
    yaml: FILES('config'),
    setup: async (app) => symlink('../secret', join(app, 'config')),
    message:
      `goci: goci.yaml: image.files[0].src: "config" resolves to PARENT/secret, outside the build context APP ` +
      `${OUTSIDE_HINT}`,
    exitCode: 2,
  },
  {
    name: 'a symlink out of the context inside a copied directory',
    yaml: FILES('web'),
    setup: async (app) => webWith(app, 'passwd', (path) => symlink('/etc/passwd', path)),
    message:
      `goci: goci.yaml: image.files[0].src: "web/passwd" is a symlink to /etc/passwd, outside the build context APP ` +
      `${OUTSIDE_HINT}`,
    exitCode: 2,
  },
  {
    name: 'a relative symlink climbing out of a copied directory',
    yaml: FILES('web'),
    setup: async (app) => webWith(app, 'up', (path) => symlink('../../secret', path)),
    message:
      `goci: goci.yaml: image.files[0].src: "web/up" is a symlink to ../../secret, outside the build context APP ` +
      `${OUTSIDE_HINT}`,
    exitCode: 2,
  },
  {
    name: 'a symlink to /dev/null in a copied directory',
    yaml: FILES('web'),
    setup: async (app) => webWith(app, 'null', (path) => symlink('/dev/null', path)),
    message:
      `goci: goci.yaml: image.files[0].src: "web/null" is a symlink to /dev/null, outside the build context APP ` +
      `${OUTSIDE_HINT}`,
    exitCode: 2,
  },
  {
    name: 'a character device in a copied directory',
    yaml: FILES('web'),
    setup: async (app) => webWith(app, 'zero', (path) => execa('mknod', [path, 'c', '1', '5'])),
    message: `goci: goci.yaml: image.files[0].src: "web/zero" is a character device; ${NOT_COPYABLE}`,
    exitCode: 2,
  },
  {
    name: 'a character device as the source',
    yaml: FILES('zero'),
    setup: async (app) => {
      await execa('mknod', [join(app, 'zero'), 'c', '1', '5']);
    },
    message: `goci: goci.yaml: image.files[0].src: "zero" is a character device; ${NOT_COPYABLE}`,
    exitCode: 2,
  },
  {
    name: 'a FIFO in a copied directory',
    yaml: FILES('web'),
    setup: async (app) => webWith(app, 'pipe', (path) => execa('mkfifo', [path])),
    message: `goci: goci.yaml: image.files[0].src: "web/pipe" is a FIFO; ${NOT_COPYABLE}`,
    exitCode: 2,
  },
  {
    name: 'a socket in a copied directory',
    yaml: FILES('web'),
    setup: async (app) =>
      webWith(app, 'sock', async (path) => {
        const server = createServer();
        servers.push(server);
        await new Promise<void>((resolve) => server.listen(path, resolve));
      }),
    message: `goci: goci.yaml: image.files[0].src: "web/sock" is a socket; ${NOT_COPYABLE}`,
    exitCode: 2,
  },
  {
    name: 'a symlink loop in a copied directory',
    yaml: FILES('web'),
    setup: async (app) =>
      webWith(app, 'loop-a', async (path) => {
        await symlink('loop-b', path);
        await symlink('loop-a', join(app, 'web', 'loop-b'));
      }),
    message:
      'goci: goci.yaml: image.files[0].src: "web/loop-a" is a symlink loop (or passes through one) (remove the loop, ' +
      'or leave it out of the build)',
    exitCode: 2,
  },
  {
    name: 'a YAML alias bomb',
    yaml: aliasBomb(),
    message:
      'goci: goci.yaml: cannot be read as YAML: Excessive alias count indicates a resource exhaustion attack (write ' +
      'goci.yaml as plain YAML (few aliases, little nesting))',
    exitCode: 2,
  },
  {
    name: 'binary garbage',
    // Bytes 0x80..0xff: not UTF-8, so each reads as U+FFFD; the message shows the start of the text.
    yaml: Buffer.from(Array.from({ length: 128 }, (_, index) => 0x80 + index)),
    message:
      `goci: goci.yaml: (top level): expected a mapping, found string "${'\ufffd'.repeat(59)}…" (128 characters) ` +
      '(see the goci.yaml reference in the README)',
    exitCode: 2,
  },
  {
    name: 'YAML nested deeper than the stack',
    yaml: `builds: ${'['.repeat(20000)}${']'.repeat(20000)}\n`,
    message:
      'goci: goci.yaml: cannot be read as YAML: it is nested too deeply to read ' +
      '(write goci.yaml as plain YAML (few aliases, little nesting))',
    exitCode: 2,
  },
  {
    name: 'a list used as a mapping key',
    yaml: '? [builds]\n: x\n',
    message:
      'goci: goci.yaml: [ builds ]: unknown field; known fields here are version, builds, image, images ' +
      '(see the goci.yaml reference in the README)',
    exitCode: 2,
  },
  {
    name: 'an owner id larger than a tar header holds',
    yaml: 'image:\n  files:\n    - {src: main.go, dst: /x, owner: "99999999999999999999"}\n',
    message:
      'goci: goci.yaml: image.files[0].owner: expected a numeric owner such as 65532 or 65532:65532, ' +
      'found string "99999999999999999999" (see the goci.yaml reference in the README)',
    exitCode: 2,
  },
  {
    name: 'goci.yaml as a symlink out of its directory',
    yaml: '',
    setup: async (app) => {
      await rm(join(app, 'goci.yaml'));
      await symlink('../secret', join(app, 'goci.yaml'));
    },
    message:
      'goci: goci.yaml: a symlink to PARENT/secret, outside APP ' +
      '(copy the file into the directory, or name it with --config FILE)',
    exitCode: 2,
  },
  {
    name: 'goci.yaml as a character device',
    yaml: '',
    setup: async (app) => {
      await rm(join(app, 'goci.yaml'));
      await execa('mknod', [join(app, 'goci.yaml'), 'c', '1', '5']);
    },
    message: 'goci: goci.yaml: not a regular file (a goci.yaml is a YAML text file)',
    exitCode: 2,
  },
  {
    name: 'a goci.yaml of several MiB',
    yaml: `# ${'x'.repeat(3 << 20)}\n`,
    message:
      'goci: goci.yaml: 3145731 bytes, more than a goci.yaml may have (1048576) (a goci.yaml is a YAML text file)',
    exitCode: 2,
  },
  {
    name: 'a NUL character in an env value',
    yaml: BUILD('env: {TEAM: "a\\0b"}'),
    message:
      'goci: goci.yaml: builds[0].env.TEAM: contains a NUL character (see the goci.yaml reference in the README)',
    exitCode: 2,
  },
  {
    name: 'an env variable named __proto__',
    yaml: 'image:\n  env: {__proto__: x}\n',
    message:
      'goci: goci.yaml: image.env.__proto__: "__proto__" is not a valid environment variable name ' +
      '(see the goci.yaml reference in the README)',
    exitCode: 2,
  },
  {
    name: 'a mapping where the user is expected',
    yaml: 'image:\n  user: {name: root}\n',
    message:
      'goci: goci.yaml: image.user: expected a string, found a mapping (see the goci.yaml reference in the README)',
    exitCode: 2,
  },
  {
    name: 'an ldflags value with both quote kinds and whitespace',
    yaml: BUILD('ldflags: ["-X main.team={{.Env.TEAM}}"]'),
    env: { TEAM: `it's "x" y` },
    message:
      `goci: goci.yaml: builds[0].ldflags[0]: {{.Env.TEAM}} gives a value with both ' and " and whitespace, which ` +
      `-ldflags cannot carry as one argument (use a value without one of the quote kinds)`,
    exitCode: 2,
  },
  {
    name: 'a tags value adding a tag',
    yaml: BUILD('tags: ["{{.Env.TAG}}"]'),
    env: { TAG: 'netgo,evil' },
    message:
      'goci: goci.yaml: builds[0].tags[0]: {{.Env.TAG}} gives "netgo,evil", which is not one build tag (no commas, ' +
      'spaces or empty tags) (list each tag as its own element of tags)',
    exitCode: 2,
  },
  {
    name: 'a volume over the root',
    yaml: 'image: {volumes: [/]}\n',
    message:
      'goci: goci.yaml: image.volumes[0]: "/" is the root; a volume must be a directory below it (see the goci.yaml ' +
      'reference in the README)',
    exitCode: 2,
  },
  {
    name: 'a volume above the binaries',
    yaml: 'image: {volumes: [/usr/local]}\n',
    message:
      'goci: goci.yaml: image.volumes[0]: "/usr/local" would hide the binaries in /usr/local/bin when the container ' +
      'starts (see the goci.yaml reference in the README)',
    exitCode: 2,
  },
  {
    name: 'a main package that is a go build flag',
    yaml: BUILD('main: "-toolexec=/bin/true"'),
    message:
      'goci: goci.yaml: builds[0].main: "-toolexec=/bin/true" is read by go build as a flag, not a package; name a ' +
      'directory such as ./cmd/api or an import path (see the goci.yaml reference in the README)',
    exitCode: 2,
  },
  {
    name: 'a flags value that becomes -toolexec',
    yaml: BUILD('flags: ["{{.Env.FLAG}}"]'),
    env: { FLAG: '-toolexec=/bin/true' },
    message:
      'goci: goci.yaml: builds[0].flags[0]: "-toolexec=/bin/true" is not allowed in goci.yaml: it runs a program of ' +
      'its choosing around every compiler and linker step (remove it from goci.yaml)',
    exitCode: 2,
  },
  ...['constructor', '__proto__', 'toString', 'hasOwnProperty'].map(
    (name): Case => ({
      name: `{{.Env.${name}}} with no such variable`,
      yaml: BUILD(`ldflags: ["-X main.team={{.Env.${name}}}"]`),
      message:
        `goci: goci.yaml: builds[0].ldflags[0]: {{.Env.${name}}} refers to ${name}, which is not set in the ` +
        `environment`,
      exitCode: 2,
    }),
  ),
  ...['constructor', 'toString'].map(
    (name): Case => ({
      name: `{{.${name}}} is not a field`,
      yaml: BUILD(`ldflags: ["-X main.team={{.${name}}}"]`),
      message:
        `goci: goci.yaml: builds[0].ldflags[0]: {{.${name}}} is unknown; fields are .Version .Commit .ShortCommit ` +
        `.Date .CommitTimestamp .Os .Arch .Variant .Env`,
      exitCode: 2,
    }),
  ),
  ...[
    ['-toolexec=/bin/true', 'it runs a program of its choosing around every compiler and linker step'],
    ['--toolexec', 'it runs a program of its choosing around every compiler and linker step'],
    ['-exec=/bin/sh', 'it runs a program of its choosing'],
    ['-overlay=/tmp/overlay.json', 'it replaces source files with files from any path'],
    ['-modfile', "it reads go.mod from any path instead of the module's own"],
    ['-C=..', 'it makes go build another directory; use builds[].dir inside the build context'],
    ['-pkgdir=/tmp/pkg', 'it loads precompiled packages from any directory'],
    ['-gccgoflags=-fplugin=/tmp/evil.so', 'gcc flags can load plugins and run programs'],
    ['-compiler=gccgo', 'it runs another compiler program'],
    ['-gcflags=all=-importcfg /tmp/cfg', 'its -importcfg reads files from any path'],
    ['-asmflags=-I /tmp/include', 'its -I reads files from any path'],
    ['-gcflags=example.com/app=-cpuprofile=/tmp/cpu', 'its -cpuprofile=/tmp/cpu writes a profile to any path'],
  ].map(
    ([flag, reason]): Case => ({
      name: `flags: ${flag}`,
      yaml: BUILD(`flags: [${JSON.stringify(flag)}, /tmp/x]`),
      message:
        `goci: goci.yaml: builds[0].flags[0]: "${flag}" is not allowed in goci.yaml: ${reason} (remove it from ` +
        `goci.yaml)`,
      exitCode: 2,
    }),
  ),
  {
    name: 'flags: -gcflags with its value as the next element',
    yaml: BUILD('flags: [-gcflags, "-N -o /tmp/x.o"]'),
    message:
      'goci: goci.yaml: builds[0].flags[0]: "-gcflags -N -o /tmp/x.o" is not allowed in goci.yaml: ' +
      'its -o writes a file to any path (remove it from goci.yaml)',
    exitCode: 2,
  },
  {
    name: 'flags: -pgo with a profile path',
    yaml: BUILD('flags: [-pgo=/tmp/cpu.pprof]'),
    message:
      'goci: goci.yaml: builds[0].flags[0]: "-pgo=/tmp/cpu.pprof" is not allowed in goci.yaml: it reads a profile ' +
      'from any path (use -pgo=auto with a default.pgo in the main package)',
    exitCode: 2,
  },
  {
    name: 'env GOFLAGS smuggling -toolexec',
    yaml: BUILD('env: {GOFLAGS: "-mod=mod -toolexec=/bin/true"}'),
    message:
      'goci: goci.yaml: builds[0].env.GOFLAGS: "-toolexec=/bin/true" is not allowed in goci.yaml: it runs a program ' +
      'of its choosing around every compiler and linker step (remove it from goci.yaml)',
    exitCode: 2,
  },
  {
    name: 'env GOFLAGS smuggling --overlay',
    yaml: BUILD('env: ["GOFLAGS=--overlay=/tmp/o.json"]'),
    message:
      'goci: goci.yaml: builds[0].env.GOFLAGS: "--overlay=/tmp/o.json" is not allowed in goci.yaml: it replaces ' +
      'source files with files from any path (remove it from goci.yaml)',
    exitCode: 2,
  },
  {
    name: 'env CC choosing a program',
    yaml: BUILD('env: {CGO_ENABLED: "1", CC: /tmp/evil}'),
    message:
      'goci: goci.yaml: builds[0].env.CC: setting CC is not allowed in goci.yaml: it chooses a program go runs ' +
      '(remove it from goci.yaml)',
    exitCode: 2,
  },
  {
    name: 'env GOENV naming a go env file',
    yaml: BUILD('env: {GOENV: ./go.env}'),
    message:
      'goci: goci.yaml: builds[0].env.GOENV: setting GOENV is not allowed in goci.yaml: it names a go env file that ' +
      'can set GOFLAGS, CC or GOROOT (remove it from goci.yaml)',
    exitCode: 2,
  },
  {
    name: 'ldflags -extld naming a program',
    yaml: BUILD('ldflags: ["-linkmode=external -extld=/tmp/evil"]'),
    message:
      'goci: goci.yaml: builds[0].ldflags[0]: "-extld=/tmp/evil" is not allowed in goci.yaml: it names the external ' +
      'linker program go runs (remove it from goci.yaml)',
    exitCode: 2,
  },
  {
    name: 'ldflags -libgcc reading a library from any path',
    yaml: BUILD('ldflags: ["-libgcc=/etc/shadow"]'),
    message:
      'goci: goci.yaml: builds[0].ldflags[0]: "-libgcc=/etc/shadow" is not allowed in goci.yaml: it makes the linker ' +
      'read a compiler support library from any path (remove it from goci.yaml)',
    exitCode: 2,
  },
  {
    name: 'ldflags -o writing the program elsewhere',
    yaml: BUILD('ldflags: ["-o {{.Env.OUT}}"]'),
    env: { OUT: '/tmp/goci-hostile-evil' },
    message:
      'goci: goci.yaml: builds[0].ldflags[0]: "-o" is not allowed in goci.yaml: ' +
      'it makes the linker write the program ' +
      'anywhere; goci chooses the output file (see --dist) (remove it from goci.yaml)',
    exitCode: 2,
  },
  {
    name: 'builds[].dir outside the context',
    yaml: BUILD('dir: ..'),
    message: `goci: goci.yaml: builds[0].dir: ".." resolves to PARENT, outside the build context APP ${OUTSIDE_HINT}`,
    exitCode: 2,
  },
  {
    name: 'builds[].dir through a symlink out of the context',
    yaml: BUILD('dir: elsewhere'),
    setup: async (app) => symlink('..', join(app, 'elsewhere')),
    message: `goci: goci.yaml: builds[0].dir: "elsewhere" resolves to PARENT, outside the build context APP ${OUTSIDE_HINT}`,
    exitCode: 2,
  },
  {
    name: 'builds[].main outside the context',
    yaml: BUILD('main: ../other'),
    message:
      `goci: goci.yaml: builds[0].main: "../other" resolves to PARENT/other, outside the build context APP ` +
      `${OUTSIDE_HINT}`,
    exitCode: 2,
  },
  {
    name: 'an absolute builds[].main',
    yaml: BUILD('main: /usr/lib/go-1.19/src/cmd/gofmt'),
    message:
      'goci: goci.yaml: builds[0].main: "/usr/lib/go-1.19/src/cmd/gofmt" is an absolute path; write the main package ' +
      'relative to dir (./cmd/api)',
    exitCode: 2,
  },
  {
    name: 'non-Linux platforms given to goci build with --platform',
    yaml: BUILD('binary: app'),
    args: ['--platform', 'linux/amd64,windows/amd64,darwin/arm64'],
    message:
      'goci: --platform: goci build makes Linux images and cannot put windows/amd64, darwin/arm64 in one (build ' +
      'binaries for other systems with goci compile or goci release)',
    exitCode: 2,
  },
  {
    name: 'non-Linux platforms in builds[].platforms',
    yaml: BUILD('platforms: [linux/arm64, windows/amd64]'),
    message:
      'goci: goci.yaml: builds[0].platforms: goci build makes Linux images and cannot put windows/amd64 in one ' +
      '(build binaries for other systems with goci compile or goci release)',
    exitCode: 2,
  },
];

describe('a hostile goci.yaml fails with one line and changes nothing', () => {
  for (const item of CASES) {
    test(item.name, async () => {
      const parent = await realpath(await temporaryDirectory('hostile'));
      made.push(parent);
      const app = join(parent, 'app');
      await mkdir(app);
      await writeFile(join(parent, 'secret'), 'password=hunter2\n');
      await writeFile(join(app, 'go.mod'), GO_MOD);
      await writeFile(join(app, 'main.go'), MAIN);
      await writeFile(join(app, 'goci.yaml'), item.yaml);
      await item.setup?.(app);
      const [distBefore, cacheBefore] = [await treeFingerprint(dist), await treeFingerprint(cache)];
      const env = { ...process.env, ...item.env, GOCI_CACHE_DIR: cache };
      const args = ['build', '--version', '1.2.3', '--dist', dist, ...(item.args ?? [])];
      const result = await goci(args, { cwd: app, env });
      const expected = item.message.replaceAll('PARENT', parent).replaceAll('APP', app);
      assert.equal(lastLine(result.stderr), expected, result.stderr);
      assert.equal(result.exitCode, item.exitCode);
      assert.deepEqual(await treeFingerprint(dist), distBefore, 'dist/ changed');
      assert.deepEqual(await treeFingerprint(cache), cacheBefore, "goci's cache changed");
    });
  }
});
