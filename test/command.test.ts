import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { commandLine, displayCommand, goBuildCommand, type CommandInput } from '../compiler/command.js';
import { parsePlatform } from '../compiler/platform.js';
import { parseSpecText } from '../spec/load.js';
import type { Stamp } from '../compiler/version.js';

const STAMP: Stamp = {
  version: '1.2.3',
  commit: '1a2b3c4d5e6f',
  shortCommit: '1a2b3c4',
  epoch: 1714564800,
  date: '2024-05-01T12:00:00Z',
  commitTimestamp: '1714564800',
  modified: false,
  sourceUrl: undefined,
  development: false,
};

function input(yaml: string, platform = 'linux/arm/v7', overrides: Partial<CommandInput> = {}): CommandInput {
  const spec = parseSpecText(yaml, 'goci.yaml', '/src/app');
  return {
    build: spec.builds[0]!,
    where: 'goci.yaml: builds[0]',
    platform: parsePlatform(platform),
    stamp: STAMP,
    versionSettings: spec.version,
    cwd: '/src/app',
    moduleMode: 'module',
    buildvcs: undefined,
    processEnv: { TEAM: 'payments' },
    ...overrides,
  };
}

describe('the go build command', () => {
  test('a default build: static, trimmed, stripped, no build id, version stamped, read-only modules', () => {
    const command = goBuildCommand(input(''));
    assert.deepEqual(commandLine(command, '/out/app'), [
      'build',
      '-trimpath',
      '-mod=readonly',
      '-ldflags=-s -w -buildid= -X main.version=1.2.3',
      '-o',
      '/out/app',
      '--',
      '.',
    ]);
    assert.deepEqual(command.env, { CGO_ENABLED: '0', GOOS: 'linux', GOARCH: 'arm', GOARM: '7' });
  });

  test('commit and date variables, tags, buildvcs, templated ldflags, flags and env', () => {
    const yaml = [
      'version: {commitVariable: main.commit, dateVariable: main.date}',
      'builds:',
      '  - main: ./cmd/app',
      '    tags: [netgo, "{{.Os}}"]',
      '    ldflags: ["-X main.team={{.Env.TEAM}}"]',
      '    flags: [-v, -trimpath]',
      '    env: {GODEBUG: "x={{.Arch}}"}',
      '    buildvcs: false',
    ].join('\n');
    const command = goBuildCommand(input(yaml, 'linux/amd64/v3'));
    assert.deepEqual(commandLine(command, 'out'), [
      'build',
      '-trimpath',
      '-mod=readonly',
      '-buildvcs=false',
      '-tags=netgo,linux',
      '-ldflags=-s -w -buildid= -X main.version=1.2.3 -X main.commit=1a2b3c4d5e6f -X main.date=2024-05-01T12:00:00Z -X main.team=payments',
      '-v',
      '-o',
      'out',
      '--',
      './cmd/app',
    ]);
    assert.deepEqual(command.env, {
      CGO_ENABLED: '0',
      GOOS: 'linux',
      GOARCH: 'amd64',
      GOAMD64: 'v3',
      GODEBUG: 'x=amd64',
    });
  });

  test('a vendor directory is respected with -mod=vendor; GOPATH mode gets no -mod', () => {
    assert.ok(goBuildCommand(input('', 'linux/amd64', { moduleMode: 'vendor' })).args.includes('-mod=vendor'));
    assert.ok(
      !goBuildCommand(input('', 'linux/amd64', { moduleMode: 'gopath' })).args.some((arg) => arg.startsWith('-mod')),
    );
  });

  test('--buildvcs from the command line wins over the spec', () => {
    assert.ok(
      goBuildCommand(input('builds: [{buildvcs: false}]', 'linux/amd64', { buildvcs: 'true' })).args.includes(
        '-buildvcs=true',
      ),
    );
  });

  test("a user -mod flag replaces goci's", () => {
    const args = goBuildCommand(input('builds: [{flags: [-mod=mod]}]')).args;
    assert.deepEqual(
      args.filter((arg) => arg.startsWith('-mod')),
      ['-mod=mod'],
    );
  });

  test('CGO_ENABLED can be forced by the build env (the static check then decides)', () => {
    assert.equal(goBuildCommand(input('builds: [{env: {CGO_ENABLED: "1"}}]')).env.CGO_ENABLED, '1');
  });

  test('flags goci owns are refused with where to put them instead', () => {
    assert.throws(() => goBuildCommand(input('builds: [{flags: ["-ldflags=-s"]}]')), {
      code: 'BAD_SPEC',
      message: 'goci.yaml: builds[0].flags[0]: "-ldflags=-s" is set by goci; put linker flags in ldflags',
    });
    assert.throws(() => goBuildCommand(input('builds: [{flags: ["-o"]}]')), { code: 'BAD_SPEC' });
  });

  test('the displayed command can be pasted into a shell', () => {
    const text = displayCommand(goBuildCommand(input('')), '/out dir/app');
    assert.equal(
      text,
      "(cd /src/app && CGO_ENABLED=0 GOOS=linux GOARCH=arm GOARM=7 go build -trimpath -mod=readonly '-ldflags=-s -w -buildid= -X main.version=1.2.3' -o '/out dir/app' -- .)",
    );
  });
});
