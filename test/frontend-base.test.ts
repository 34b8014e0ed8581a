import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { fromBinary, toBinary } from '@bufbuild/protobuf';
import { GociError } from '../common/errors.js';
import { parsePlatform } from '../compiler/platform.js';
import { baseSteps, frontendImageRef } from '../frontend/base-steps.js';
import { DefinitionSchema, OpSchema } from '../frontend/gen/ops_pb.js';
import { fileOp } from '../frontend/llb/file.js';
import { definition } from '../frontend/llb/vertex.js';

const BUILD = parsePlatform('linux/amd64');
const EPOCH = 1714564800;

function ops(steps: ReturnType<typeof baseSteps>) {
  const bytes = toBinary(DefinitionSchema, definition(fileOp(undefined, steps, 'image')));
  return { size: bytes.length, ops: fromBinary(DefinitionSchema, bytes).def.map((op) => fromBinary(OpSchema, op)) };
}

describe("the frontend's static base", () => {
  test('is one copy of /goci/base/static/ from the frontend image on the build platform, stamped with the epoch, owners kept', () => {
    const { ops: decoded } = ops(baseSteps('127.0.0.1:5000/goci/frontend:0.1', BUILD, EPOCH));
    const [source, file] = decoded;
    assert.equal(decoded.length, 3);
    assert.deepEqual(source?.op, {
      case: 'source',
      value: { $typeName: 'pb.SourceOp', identifier: 'docker-image://127.0.0.1:5000/goci/frontend:0.1', attrs: {} },
    });
    assert.deepEqual([source?.platform?.OS, source?.platform?.Architecture], ['linux', 'amd64']);
    assert.equal(file?.op.case, 'file');
    const actions = file?.op.case === 'file' ? file.op.value.actions : [];
    assert.equal(actions.length, 1);
    const copy = actions[0]?.action;
    assert.equal(copy?.case, 'copy');
    if (copy?.case !== 'copy') return;
    assert.deepEqual(
      {
        src: copy.value.src,
        dest: copy.value.dest,
        dirCopyContents: copy.value.dirCopyContents,
        followSymlink: copy.value.followSymlink,
        timestamp: copy.value.timestamp,
        mode: copy.value.mode,
        owner: copy.value.owner,
      },
      {
        src: '/goci/base/static/',
        dest: '/',
        dirCopyContents: true,
        followSymlink: false,
        timestamp: BigInt(EPOCH),
        mode: -1,
        owner: undefined,
      },
    );
  });

  test('carries no file data: its definition is under 1 KiB for any epoch', () => {
    const sizes = [0, EPOCH].map((epoch) => ops(baseSteps('goci.dev/frontend:0.1', BUILD, epoch)).size);
    assert.ok(
      sizes.every((size) => size < 1024),
      `definition sizes ${sizes.join(', ')}`,
    );
  });

  test('needs BuildKit to name the frontend image (its source option)', () => {
    assert.equal(frontendImageRef({ source: 'goci.dev/frontend:0.1', filename: 'goci.yaml' }), 'goci.dev/frontend:0.1');
    assert.throws(
      () => frontendImageRef({ filename: 'goci.yaml' }),
      (error: unknown) =>
        error instanceof GociError && error.code === 'BAD_ARGUMENT' && /no `source` option/.test(error.message),
    );
  });
});
