import assert from 'node:assert/strict';
import { execFile as execFileCallback } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';

import { GociError, type GociErrorCode } from '../common/errors.js';
import { parseModInfo, unquoteGoString } from '../compiler/binary/buildinfo.js';
import { inspectBinary, inspectBuffer } from '../compiler/binary/inspect.js';
import { UnreadableBinary } from '../compiler/binary/layout.js';
import type { BinaryReport, BuildSetting, GoBuildInfo, Module } from '../compiler/binary/types.js';

const execFile = promisify(execFileCallback);

/**
 * A module with one dependency replaced by a local directory, so build info has mod, dep and
 * "=>" lines without needing the network; plus a cgo program and a strconv.Quote oracle.
 */
const MODULE_FILES: Record<string, string> = {
  'go.mod':
    'module example.com/probe\n\ngo 1.19\n\nrequire example.com/greet v0.0.0\n\nreplace example.com/greet => ./greet\n',
  'main.go':
    'package main\n\nimport (\n\t"fmt"\n\n\t"example.com/greet"\n)\n\nfunc main() { fmt.Println(greet.Hello()) }\n',
  'greet/go.mod': 'module example.com/greet\n\ngo 1.19\n',
  'greet/greet.go': 'package greet\n\nfunc Hello() string { return "hello" }\n',
  'cgoprobe/main.go': [
    'package main',
    '',
    '// #include <stdio.h>',
    '// static void greet(void) { puts("hello from C"); }',
    'import "C"',
    '',
    'func main() { C.greet() }',
    '',
  ].join('\n'),
  'quoter/main.go': [
    'package main',
    '',
    'import (',
    '\t"encoding/json"',
    '\t"os"',
    '\t"strconv"',
    ')',
    '',
    '// Prints [original, strconv.Quote(original), strconv.QuoteToASCII(original)] triples.',
    'func main() {',
    '\tsamples := []string{"plain", "-s -w -buildid=", "tab\\there", `quote " and \\ backslash`, "back`tick",',
    '\t\t"new\\nline\\r", "é ünïcödé", "\\x00\\x01\\x1f\\x7f", "\\u2028\\u00ad", "😀 emoji", "invalid \\xff\\xfe bytes", "\\a\\b\\f\\v"}',
    '\tvar triples [][3]string',
    '\tfor _, s := range samples {',
    '\t\ttriples = append(triples, [3]string{s, strconv.Quote(s), strconv.QuoteToASCII(s)})',
    '\t}',
    '\tjson.NewEncoder(os.Stdout).Encode(triples)',
    '}',
    '',
  ].join('\n'),
};

const STRIPPED = ['-trimpath', '-ldflags', '-s -w -buildid='];

interface Build {
  label: string;
  env: Record<string, string>;
  flags: string[];
  packagePath: string;
  /** Everything inspectBinary reports apart from build info, exactly. */
  expected?: Omit<BinaryReport, 'buildInfo'>;
}

function crossBuild(label: string, env: Record<string, string>, expected: Omit<BinaryReport, 'buildInfo'>): Build {
  return { label, env: { CGO_ENABLED: '0', ...env }, flags: STRIPPED, packagePath: '.', expected };
}

function staticElf(os: string, arch: string, variant?: string): Omit<BinaryReport, 'buildInfo'> {
  return { format: 'elf', os, arch, ...(variant === undefined ? {} : { variant }), static: true, needed: [] };
}

const BUILDS = {
  linuxAmd64: crossBuild('linux/amd64', { GOOS: 'linux', GOARCH: 'amd64' }, staticElf('linux', 'amd64')),
  linuxArm64: crossBuild('linux/arm64', { GOOS: 'linux', GOARCH: 'arm64' }, staticElf('linux', 'arm64')),
  linuxArmV7: crossBuild(
    'linux/arm GOARM=7',
    { GOOS: 'linux', GOARCH: 'arm', GOARM: '7' },
    staticElf('linux', 'arm', 'v7'),
  ),
  linuxAmd64V3: crossBuild(
    'linux/amd64 GOAMD64=v3',
    { GOOS: 'linux', GOARCH: 'amd64', GOAMD64: 'v3' },
    staticElf('linux', 'amd64', 'v3'),
  ),
  // Big-endian ELF in both classes.
  linuxMips: crossBuild('linux/mips', { GOOS: 'linux', GOARCH: 'mips' }, staticElf('linux', 'mips')),
  linuxPpc64: crossBuild('linux/ppc64', { GOOS: 'linux', GOARCH: 'ppc64' }, staticElf('linux', 'ppc64')),
  darwinArm64: crossBuild(
    'darwin/arm64',
    { GOOS: 'darwin', GOARCH: 'arm64' },
    { format: 'macho', os: 'darwin', arch: 'arm64', static: false, needed: ['/usr/lib/libSystem.B.dylib'] },
  ),
  windowsAmd64: crossBuild(
    'windows/amd64',
    { GOOS: 'windows', GOARCH: 'amd64' },
    { format: 'pe', os: 'windows', arch: 'amd64', static: false, needed: ['kernel32.dll'] },
  ),
  windows386: crossBuild(
    'windows/386 (PE32)',
    { GOOS: 'windows', GOARCH: '386' },
    { format: 'pe', os: 'windows', arch: '386', static: false, needed: ['kernel32.dll'] },
  ),
  // No -trimpath: Go 1.19 only records -ldflags without it (go.dev/issue/52372), and that value is quoted.
  netgo: {
    label: 'linux/amd64 -tags netgo,osusergo',
    env: { CGO_ENABLED: '0', GOOS: 'linux', GOARCH: 'amd64' },
    flags: ['-tags', 'netgo,osusergo', '-ldflags', '-s -w -buildid='],
    packagePath: '.',
    expected: staticElf('linux', 'amd64'),
  },
  // Native, so the host's C compiler can build it; no -trimpath, so the quoted CGO_* flags are recorded.
  cgo: { label: 'cgo', env: { CGO_ENABLED: '1' }, flags: [], packagePath: './cgoprobe' },
} satisfies Record<string, Build>;

type BuildName = keyof typeof BUILDS;

let workspace: string;
const binaries = new Map<BuildName, string>();
let quoteOracle: [string, string, string][];

/** The go command with nothing from the caller's environment steering the target or the network. */
function goEnvironment(overrides: Record<string, string>): NodeJS.ProcessEnv {
  const neutral = {
    GOOS: '',
    GOARCH: '',
    GOARM: '',
    GOAMD64: '',
    GOFLAGS: '',
    GOWORK: 'off',
    GOPROXY: 'off',
    CGO_ENABLED: '0',
  };
  return { ...process.env, ...neutral, ...overrides };
}

async function buildBinary(name: BuildName): Promise<void> {
  const build: Build = BUILDS[name];
  const output = join(workspace, 'bin', name);
  await execFile('go', ['build', ...build.flags, '-o', output, build.packagePath], {
    cwd: workspace,
    env: goEnvironment(build.env),
  });
  binaries.set(name, output);
}

function binary(name: BuildName): string {
  const path = binaries.get(name);
  assert.ok(path, `${name} was not built`);
  return path;
}

/** Runs at most `limit` jobs at once: go build is already parallel inside. */
async function runLimited<T>(items: readonly T[], limit: number, job: (item: T) => Promise<void>): Promise<void> {
  const queue = [...items];
  const worker = async (): Promise<void> => {
    for (let item = queue.shift(); item !== undefined; item = queue.shift()) await job(item);
  };
  await Promise.all(Array.from({ length: limit }, worker));
}

before(async () => {
  workspace = await mkdtemp(join(tmpdir(), 'goci-test-binary-'));
  for (const [name, content] of Object.entries(MODULE_FILES)) {
    await mkdir(dirname(join(workspace, name)), { recursive: true });
    await writeFile(join(workspace, name), content);
  }
  await runLimited(Object.keys(BUILDS) as BuildName[], 3, buildBinary);
  const { stdout } = await execFile('go', ['run', './quoter'], { cwd: workspace, env: goEnvironment({}) });
  quoteOracle = JSON.parse(stdout) as [string, string, string][];
});

after(async () => {
  if (workspace !== undefined) await rm(workspace, { recursive: true, force: true });
});

// ---------------------------------------------------------------------------------------------
// The reference: `go version -m FILE` as printed by Go 1.19 (which has no -json).
// ---------------------------------------------------------------------------------------------

async function goVersionM(path: string): Promise<GoBuildInfo> {
  const { stdout } = await execFile('go', ['version', '-m', path], { env: goEnvironment({}) });
  return parseGoVersionOutput(path, stdout);
}

/**
 * First line `FILE: go1.19.8`, then tab-indented records. Quoted settings are decoded with
 * JSON.parse, independently of the code under test; it is exact for the ASCII values builds record.
 */
function parseGoVersionOutput(path: string, output: string): GoBuildInfo {
  const [first = '', ...lines] = output.split('\n');
  assert.ok(first.startsWith(`${path}: `), `unexpected first line: ${first}`);
  const info: GoBuildInfo = { goVersion: first.slice(path.length + 2), path: '', deps: [], settings: [] };
  let last: Module | undefined;
  for (const line of lines) {
    const [indent, kind, ...fields] = line.split('\t');
    if (indent !== '' || kind === undefined) continue;
    if (kind === 'path') info.path = fields.join('\t');
    if (kind === 'mod') last = info.main = moduleFromFields(fields);
    if (kind === 'dep') {
      last = moduleFromFields(fields);
      info.deps.push(last);
    }
    if (kind === '=>') {
      assert.ok(last, 'replacement without a module');
      last.replace = moduleFromFields(fields);
    }
    if (kind === 'build') info.settings.push(settingFromText(fields.join('\t')));
  }
  return info;
}

function moduleFromFields([path = '', version = '', sum = '']: string[]): Module {
  return sum === '' ? { path, version } : { path, version, sum };
}

function settingFromText(text: string): BuildSetting {
  assert.ok(!text.startsWith('"'), `quoted keys are not expected from real builds: ${text}`);
  const equals = text.indexOf('=');
  const raw = text.slice(equals + 1);
  return { key: text.slice(0, equals), value: raw.startsWith('"') ? (JSON.parse(raw) as string) : raw };
}

function withoutBuildInfo(report: BinaryReport): Omit<BinaryReport, 'buildInfo'> {
  const { buildInfo: _ignored, ...headers } = report;
  return headers;
}

async function assertGociError(action: () => Promise<unknown>, code: GociErrorCode, mentions?: string): Promise<void> {
  await assert.rejects(action, (error: unknown) => {
    assert.ok(error instanceof GociError, `expected a GociError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    assert.ok(!error.message.includes('\n'), 'the message must be one line');
    assert.ok(error.hint, 'every GociError here carries a hint');
    if (mentions !== undefined) assert.ok(error.message.includes(mentions), `${error.message} should name ${mentions}`);
    return true;
  });
}

/** Deterministic bytes, so a failure can be reproduced. */
function pseudoRandomBytes(length: number, seed: number): Buffer {
  const bytes = Buffer.alloc(length);
  let state = seed >>> 0 || 1;
  for (let index = 0; index < length; index++) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    bytes[index] = state & 0xff;
  }
  return bytes;
}

// ---------------------------------------------------------------------------------------------

describe('inspectBinary on Go 1.19 builds', () => {
  for (const [name, build] of Object.entries(BUILDS) as [BuildName, Build][]) {
    const expected = build.expected;
    if (expected !== undefined) {
      const platform = [expected.os, expected.arch, expected.variant].filter(Boolean).join('/');
      test(`${build.label}: headers say ${expected.format} ${platform}, ${expected.static ? 'static' : `needs ${expected.needed.join(', ')}`}`, async () => {
        assert.deepEqual(withoutBuildInfo(await inspectBinary(binary(name))), expected);
      });
    }
    test(`${build.label}: build info equals go version -m`, async () => {
      const report = await inspectBinary(binary(name));
      assert.deepEqual(report.buildInfo, await goVersionM(binary(name)));
    });
  }

  test('the main module and a dependency replaced by a directory are decoded exactly', async () => {
    const { buildInfo } = await inspectBinary(binary('linuxAmd64'));
    assert.ok(buildInfo);
    assert.match(buildInfo.goVersion, /^go1\.19(\.\d+)?$/);
    assert.equal(buildInfo.path, 'example.com/probe');
    assert.deepEqual(buildInfo.main, { path: 'example.com/probe', version: '(devel)' });
    assert.deepEqual(buildInfo.deps, [
      { path: 'example.com/greet', version: 'v0.0.0', replace: { path: './greet', version: '(devel)' } },
    ]);
  });

  test('settings keep Go order, and GOAMD64=v1 is recorded but gives no variant', async () => {
    const report = await inspectBinary(binary('linuxAmd64'));
    assert.deepEqual(report.buildInfo?.settings, [
      { key: '-compiler', value: 'gc' },
      { key: '-trimpath', value: 'true' },
      { key: 'CGO_ENABLED', value: '0' },
      { key: 'GOARCH', value: 'amd64' },
      { key: 'GOOS', value: 'linux' },
      { key: 'GOAMD64', value: 'v1' },
    ]);
    assert.equal('variant' in report, false);
  });

  test('a quoted -ldflags setting is unquoted and -tags is kept as written', async () => {
    const settings = (await inspectBinary(binary('netgo'))).buildInfo?.settings ?? [];
    assert.deepEqual(
      settings.find((setting) => setting.key === '-ldflags'),
      { key: '-ldflags', value: '-s -w -buildid=' },
    );
    assert.deepEqual(
      settings.find((setting) => setting.key === '-tags'),
      { key: '-tags', value: 'netgo,osusergo' },
    );
  });

  test('a cgo program is dynamic, needs libc and records CGO_ENABLED=1', async () => {
    const report = await inspectBinary(binary('cgo'));
    assert.equal(report.static, false);
    assert.ok(report.needed.includes('libc.so.6'), `needed: ${report.needed.join(', ')}`);
    assert.ok(report.interpreter, 'a dynamically linked ELF has an interpreter');
    assert.deepEqual(
      report.buildInfo?.settings.find((setting) => setting.key === 'CGO_ENABLED'),
      { key: 'CGO_ENABLED', value: '1' },
    );
  });
});

describe('inspectBinary on a C program', () => {
  const ls = ['/bin/ls', '/usr/bin/ls'].find((path) => existsSync(path)) ?? '/bin/ls';

  test(`${ls} is dynamic with the x86-64 loader, needs libc.so.6 and has no build info`, async () => {
    const report = await inspectBinary(ls);
    assert.equal(report.format, 'elf');
    assert.equal(report.os, 'linux');
    assert.equal(report.static, false);
    assert.equal(report.interpreter, '/lib64/ld-linux-x86-64.so.2');
    assert.ok(report.needed.includes('libc.so.6'), `needed: ${report.needed.join(', ')}`);
    assert.equal('buildInfo' in report, false);
  });
});

describe('unreadable input', () => {
  test('a missing path is NOT_FOUND naming the path', async () => {
    const missing = join(tmpdir(), 'goci-test-binary-does-not-exist', 'app');
    await assertGociError(() => inspectBinary(missing), 'NOT_FOUND', missing);
  });

  test('an empty file is BAD_BINARY naming the file', async () => {
    const empty = join(workspace, 'empty');
    await writeFile(empty, '');
    await assertGociError(() => inspectBinary(empty), 'BAD_BINARY', empty);
  });

  test('a directory is BAD_BINARY', async () => {
    await assertGociError(() => inspectBinary(workspace), 'BAD_BINARY', workspace);
  });

  test('random bytes are BAD_BINARY', async () => {
    await assertGociError(async () => inspectBuffer(pseudoRandomBytes(64 * 1024, 1)), 'BAD_BINARY');
  });

  test("random bytes behind each format's magic are BAD_BINARY", async () => {
    const magics = ['7f454c46', '7f454c460201', '7f454c460102', '4d5a', 'cffaedfe', 'feedface', 'cafebabe00000001'];
    for (const [index, magic] of magics.entries()) {
      const bytes = pseudoRandomBytes(4096, index + 7);
      Buffer.from(magic, 'hex').copy(bytes);
      await assertGociError(async () => inspectBuffer(bytes, `sample ${magic}`), 'BAD_BINARY', `sample ${magic}`);
    }
  });

  test('the first 200 bytes of a real ELF, PE and Mach-O are BAD_BINARY', async () => {
    for (const name of ['linuxAmd64', 'windowsAmd64', 'darwinArm64'] as const) {
      const head = (await readFile(binary(name))).subarray(0, 200);
      await assertGociError(async () => inspectBuffer(head, name), 'BAD_BINARY', name);
    }
  });

  test('a truncated real binary is BAD_BINARY, or reads the same when only trailing padding was cut', async () => {
    for (const name of ['linuxAmd64', 'linuxArmV7', 'linuxPpc64', 'windows386', 'darwinArm64'] as const) {
      const whole = await readFile(binary(name));
      const full = inspectBuffer(whole);
      for (let step = 0; step < 100; step++) {
        const length = Math.floor((whole.length * step) / 100);
        try {
          assert.deepEqual(inspectBuffer(whole.subarray(0, length)), full, `${name} cut to ${length} bytes`);
        } catch (error) {
          if (error instanceof assert.AssertionError) throw error;
          assert.ok(
            error instanceof GociError && error.code === 'BAD_BINARY',
            `${name} cut to ${length} bytes: ${String(error)}`,
          );
        }
      }
    }
  });

  test('corrupted header bytes give a report or BAD_BINARY, never another error', async () => {
    for (const [seed, name] of (['linuxAmd64', 'linuxMips', 'windows386', 'darwinArm64'] as const).entries()) {
      const bytes = Buffer.from(await readFile(binary(name)));
      const noise = pseudoRandomBytes(8 * 300, seed + 100);
      for (let round = 0; round < 300; round++) {
        // Mostly the first 4 KiB, where every format keeps the headers that steer the reader.
        const changes = [0, 1, 2, 3].map((k) => ({
          at: noise.readUInt16LE(round * 8 + k * 2) % 4096,
          value: noise[round * 8 + k] ?? 0,
        }));
        const originals = changes.map((change) => bytes[change.at] ?? 0);
        for (const change of changes) bytes[change.at] = change.value;
        try {
          inspectBuffer(bytes, name);
        } catch (error) {
          assert.ok(
            error instanceof GociError && error.code === 'BAD_BINARY',
            `${name} round ${round}: ${String(error)}`,
          );
        }
        for (const [index, change] of changes.entries()) bytes[change.at] = originals[index] ?? 0;
      }
    }
  });
});

describe('Go string unquoting', () => {
  test('every escape form decodes to its bytes', () => {
    assert.equal(unquoteGoString('"plain"'), 'plain');
    assert.equal(unquoteGoString('""'), '');
    assert.equal(unquoteGoString('"a\\"b\\\\c"'), 'a"b\\c');
    assert.equal(unquoteGoString('"\\a\\b\\f\\n\\r\\t\\v"'), '\x07\b\f\n\r\t\v');
    assert.equal(unquoteGoString('"\\x41\\101\\u00e9\\U0001F600"'), 'A\x41é😀');
    assert.equal(unquoteGoString('"it\'s"'), "it's");
  });

  test('\\x and octal escapes are bytes, joined into UTF-8 where they form it', () => {
    assert.equal(unquoteGoString('"\\xc3\\xa9"'), 'é');
    assert.equal(unquoteGoString('"\\303\\251"'), 'é');
    assert.equal(unquoteGoString('"\\xff"'), '\ufffd');
  });

  test('raw strings are taken as written, minus carriage returns', () => {
    assert.equal(unquoteGoString('`C:\\path\\n`'), 'C:\\path\\n');
    assert.equal(unquoteGoString('`a\r\nb`'), 'a\nb');
  });

  test('malformed literals are rejected', () => {
    const malformed = [
      'bare',
      '"unterminated',
      '"bad escape \\q"',
      '"\\\'"', // \' is only valid inside rune literals
      '"\\400"', // octal above 255
      '"\\12"', // octal needs three digits
      '"\\x4"',
      '"\\uD800"', // surrogate
      '"\\U00110000"', // beyond Unicode
      '"new\nline"',
      '"trailing" junk',
      '`unterminated',
      "'c'",
    ];
    for (const literal of malformed) assert.equal(unquoteGoString(literal), undefined, JSON.stringify(literal));
  });

  test('undoes strconv.Quote and strconv.QuoteToASCII from real Go', () => {
    assert.ok(quoteOracle.length > 10);
    for (const [original, quoted, ascii] of quoteOracle) {
      assert.equal(unquoteGoString(quoted), original, quoted);
      assert.equal(unquoteGoString(ascii), original, ascii);
    }
  });
});

describe('modinfo parsing', () => {
  test('quoted keys and values in build lines are decoded', () => {
    const info = parseModInfo('go1.19.8', 'build\t"key with space"=`raw value`\nbuild\t"a=b"="x\\ty"\nbuild\tEMPTY=\n');
    assert.deepEqual(info.settings, [
      { key: 'key with space', value: 'raw value' },
      { key: 'a=b', value: 'x\ty' },
      { key: 'EMPTY', value: '' },
    ]);
  });

  test('a last line without a newline is ignored, as Go does', () => {
    assert.deepEqual(parseModInfo('go1.19.8', 'path\tx\nbuild\tA=1').settings, []);
  });

  test('malformed build lines are rejected with their line number', () => {
    const cases = [
      'build\t=x\n',
      'build\tnoequals\n',
      'build\tA=has space\n',
      'build\t"open=1\n',
      'path\tp\n=>\ta\tb\tc\n',
      'mod\tonly\n',
    ];
    for (const text of cases) {
      assert.throws(
        () => parseModInfo('go1.19.8', text),
        (error: unknown) => error instanceof UnreadableBinary && /^Go build info line \d+: /.test(error.message),
        JSON.stringify(text),
      );
    }
  });
});
