import { create } from '@bufbuild/protobuf';
import { OpSchema } from '../gen/ops_pb.js';
import { inputOf, vertex, type Output } from './vertex.js';

/** What a file action does; paths are absolute inside the filesystem it acts on. */
export type FileStep =
  | { kind: 'mkdir'; path: string; mode: number; uid?: number; gid?: number; timestamp?: number }
  | { kind: 'mkfile'; path: string; mode: number; data: Uint8Array; uid?: number; gid?: number; timestamp?: number }
  | {
      kind: 'copy';
      from: Output;
      src: string;
      dest: string;
      mode?: number;
      uid?: number;
      gid?: number;
      timestamp?: number;
      createDestPath?: boolean;
      dirContents?: boolean;
      /** Follow `src` if it is a symlink (default true); links inside a copied directory stay links either way. */
      followSymlink?: boolean;
    };

type NumericOwner = {
  user: { user: { case: 'byID'; value: number } };
  group: { user: { case: 'byID'; value: number } };
};

/** Numeric ids only: the image may have no /etc/passwd to resolve names against. */
function owner(step: { uid?: number; gid?: number }): NumericOwner | undefined {
  if (step.uid === undefined && step.gid === undefined) return undefined;
  return {
    user: { user: { case: 'byID', value: step.uid ?? 0 } },
    group: { user: { case: 'byID', value: step.gid ?? step.uid ?? 0 } },
  };
}

/**
 * One FileOp applying `steps` in order on `base` (undefined: an empty filesystem). Each step acts
 * on the previous step's result; only the last is the op's output (index 0). -1 is written for
 * "no input", "not an output", "keep the mode" and "keep the time", as BuildKit expects.
 */
export function fileOp(base: Output | undefined, steps: FileStep[], name: string): Output {
  const inputs: Output[] = base ? [base] : [];
  const inputIndex = (output: Output): bigint => {
    let index = inputs.findIndex(
      (known) => known.vertex.digest === output.vertex.digest && known.index === output.index,
    );
    if (index < 0) index = inputs.push(output) - 1;
    return BigInt(index);
  };
  // Copy sources must be op inputs: number them all first, then refer to earlier actions as
  // (inputs + action index).
  for (const step of steps) if (step.kind === 'copy') inputIndex(step.from);
  const actionInput = (position: number): bigint =>
    position === 0 ? (base ? 0n : -1n) : BigInt(inputs.length + position - 1);
  const actions = steps.map((step, position) => {
    const common = {
      input: actionInput(position),
      secondaryInput: -1n,
      output: position === steps.length - 1 ? 0n : -1n,
    };
    const chown = owner(step);
    const timestamp = BigInt(step.timestamp ?? -1);
    switch (step.kind) {
      case 'mkdir':
        return {
          ...common,
          action: {
            case: 'mkdir' as const,
            value: {
              path: step.path,
              mode: step.mode,
              makeParents: true,
              timestamp,
              ...(chown ? { owner: chown } : {}),
            },
          },
        };
      case 'mkfile':
        return {
          ...common,
          action: {
            case: 'mkfile' as const,
            value: { path: step.path, mode: step.mode, data: step.data, timestamp, ...(chown ? { owner: chown } : {}) },
          },
        };
      case 'copy':
        return {
          ...common,
          secondaryInput: inputIndex(step.from),
          action: {
            case: 'copy' as const,
            value: {
              src: step.src,
              dest: step.dest,
              mode: step.mode ?? -1,
              followSymlink: step.followSymlink ?? true,
              dirCopyContents: step.dirContents ?? false,
              createDestPath: step.createDestPath ?? true,
              timestamp,
              ...(chown ? { owner: chown } : {}),
            },
          },
        };
      default:
        throw new Error(`file op: a step of unknown kind ${JSON.stringify(step satisfies never)}`);
    }
  });
  const op = create(OpSchema, { inputs: inputs.map(inputOf), op: { case: 'file', value: { actions } } });
  return {
    vertex: vertex(
      op,
      inputs.map((input) => input.vertex),
      ['file.base'],
      { 'llb.customname': name },
    ),
    index: 0,
  };
}
