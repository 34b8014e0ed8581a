import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import { fromBinary, toBinary } from '@bufbuild/protobuf';
import { parsePlatform } from '../compiler/platform.js';
import { DefinitionSchema, MountType, NetMode, OpSchema, type Op } from '../frontend/gen/ops_pb.js';
import { exec } from '../frontend/llb/exec.js';
import { fileOp } from '../frontend/llb/file.js';
import { imageSource, localSource } from '../frontend/llb/sources.js';
import { definition, type Output } from '../frontend/llb/vertex.js';
import { found } from '../common/found.js';

const BUILD = parsePlatform('linux/amd64');
const TARGETS = ['linux/amd64', 'linux/arm64', 'linux/arm/v7'].map((text) => parsePlatform(text));

/** A 3-platform build the way the frontend shapes it: go build per target on the build platform, then an image per target. */
function threePlatformBuild(): Output[] {
  const context = localSource('context', {
    sessionId: 'session-1',
    sharedKeyHint: 'context',
    excludePatterns: ['dist', '.git'],
  });
  const go = imageSource('goci-go-builder:1.19', BUILD);
  return TARGETS.map((target) => {
    const built = exec({
      root: go,
      args: ['go', 'build', '-trimpath', '-o', '/out/hello', '.'],
      env: ['PATH=/usr/lib/go-1.19/bin:/usr/bin:/bin', 'CGO_ENABLED=0', `GOOS=${target.os}`, `GOARCH=${target.arch}`],
      cwd: '/src',
      mounts: [
        { kind: 'bind', dest: '/src', source: context, readonly: true },
        { kind: 'bind', dest: '/out', source: undefined, output: true },
        { kind: 'cache', dest: '/root/.cache/go-build', id: 'goci-go-build' },
      ],
      network: 'none',
      platform: BUILD,
      name: `go build ${target.arch}`,
    });
    return fileOp(
      undefined,
      [
        { kind: 'mkdir', path: '/usr/local/bin', mode: 0o755, timestamp: 0 },
        { kind: 'copy', from: built.mounts['/out']!, src: '/hello', dest: '/usr/local/bin/hello', timestamp: 0 },
        {
          kind: 'mkfile',
          path: '/etc/passwd',
          mode: 0o644,
          data: new TextEncoder().encode('root:x:0:0:root:/root:/sbin/nologin\n'),
          timestamp: 0,
        },
      ],
      `image ${target.arch}`,
    );
  });
}

function decode(output: Output): {
  ops: Op[];
  digests: string[];
  metadata: Record<string, { caps: Record<string, boolean> }>;
} {
  const bytes = toBinary(DefinitionSchema, definition(output));
  const parsed = fromBinary(DefinitionSchema, bytes);
  return {
    ops: parsed.def.map((op) => fromBinary(OpSchema, op)),
    digests: parsed.def.map((op) => `sha256:${createHash('sha256').update(op).digest('hex')}`),
    metadata: parsed.metadata as never,
  };
}

describe('LLB definitions', () => {
  test('each platform: local and image sources, the exec, the file op, then the terminal op naming it', () => {
    for (const output of threePlatformBuild()) {
      const { ops } = decode(output);
      assert.deepEqual(
        ops.map((op) => op.op.case ?? 'terminal'),
        ['source', 'source', 'exec', 'file', 'terminal'],
      );
      assert.deepEqual(
        ops
          .slice(0, 2)
          .map((op) => (op.op.case === 'source' ? op.op.value.identifier : ''))
          .sort(),
        ['docker-image://docker.io/library/goci-go-builder:1.19', 'local://context'],
      );
    }
  });

  test('every input names an op that comes earlier, by the sha256 of its bytes', () => {
    const { ops, digests } = decode(threePlatformBuild()[1]!);
    ops.forEach((op, position) => {
      for (const input of op.inputs)
        assert.ok(digests.slice(0, position).includes(input.digest), `op ${position} refers to a later or unknown op`);
    });
    assert.deepEqual(
      ops.at(-1)!.inputs.map((input) => [input.digest, input.index]),
      [[digests.at(-2), 0n]],
    );
  });

  test('-1 is written where BuildKit expects it: scratch mounts and file inputs, non-output mounts, kept modes', () => {
    const { ops } = decode(threePlatformBuild()[0]!);
    const execOp = found(
      ops.find((op) => op.op.case === 'exec'),
      'an exec op',
    ).op.value as Extract<Op['op'], { case: 'exec' }>['value'];
    assert.deepEqual(
      execOp.mounts.map((mount) => [mount.dest, mount.input, mount.output, mount.mountType]),
      [
        ['/', 0n, 0n, MountType.BIND],
        ['/src', 1n, -1n, MountType.BIND],
        ['/out', -1n, 1n, MountType.BIND],
        ['/root/.cache/go-build', -1n, -1n, MountType.CACHE],
      ],
    );
    assert.equal(execOp.network, NetMode.NONE);
    const fileValue = found(
      ops.find((op) => op.op.case === 'file'),
      'a file op',
    ).op.value as Extract<Op['op'], { case: 'file' }>['value'];
    assert.deepEqual(
      fileValue.actions.map((action) => [action.input, action.secondaryInput, action.output]),
      [
        [-1n, -1n, -1n],
        [1n, 0n, -1n],
        [2n, -1n, 0n],
      ],
    );
    const copy = fileValue.actions[1]!.action;
    assert.equal(copy.case === 'copy' ? copy.value.mode : undefined, -1);
  });

  test('the bytes and digests are the same on every run', () => {
    const first = threePlatformBuild().map((output) => decode(output).digests);
    const second = threePlatformBuild().map((output) => decode(output).digests);
    assert.deepEqual(second, first);
    assert.notDeepEqual(first[0], first[1], 'different targets are different graphs');
  });

  test('the source and exec ops of the build platform are shared between the three targets', () => {
    const [amd64, arm64] = threePlatformBuild().map((output) => decode(output).digests);
    assert.deepEqual(amd64!.slice(0, 2), arm64!.slice(0, 2));
  });

  test('metadata lists only capabilities BuildKit v0.8 knows', () => {
    const known = new Set([
      'source.image',
      'source.local',
      'source.local.sessionid',
      'source.local.sharedkeyhint',
      'source.local.excludepatterns',
      'source.local.includepatterns',
      'exec.meta.base',
      'exec.meta.network',
      'exec.mount.bind',
      'exec.mount.cache',
      'exec.mount.cache.sharing',
      'exec.mount.selector',
      'file.base',
      'platform',
    ]);
    const { metadata } = decode(threePlatformBuild()[2]!);
    const used = Object.values(metadata).flatMap((entry) => Object.keys(entry.caps));
    assert.ok(used.length > 0);
    for (const cap of used) assert.ok(known.has(cap), cap);
  });
});
