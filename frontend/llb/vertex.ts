import { createHash } from 'node:crypto';
import { create, toBinary } from '@bufbuild/protobuf';
import { DefinitionSchema, OpMetadataSchema, OpSchema, type Definition, type Op } from '../gen/ops_pb.js';

/** One node of the build graph: an op, exactly as it will be sent, and what it needs. */
export interface Vertex {
  /** `sha256:<hex>` of `bytes`: how BuildKit and other ops name it. */
  digest: string;
  bytes: Uint8Array;
  inputs: Vertex[];
  /** LLB capabilities the op relies on (only ones BuildKit v0.8 knows). */
  caps: string[];
  description: Record<string, string>;
}

/** An output of a vertex: what the next op takes as an input. */
export interface Output {
  vertex: Vertex;
  index: number;
}

/**
 * Marshals an op once; its digest is the sha256 of those very bytes, as BuildKit computes it
 * on receipt, so every input reference below matches what BuildKit sees.
 */
export function vertex(op: Op, inputs: Vertex[], caps: string[], description: Record<string, string> = {}): Vertex {
  const bytes = toBinary(OpSchema, op);
  return {
    digest: `sha256:${createHash('sha256').update(bytes).digest('hex')}`,
    bytes,
    inputs,
    caps: [...new Set(caps)].sort(),
    description,
  };
}

export function inputOf(output: Output): { digest: string; index: bigint } {
  return { digest: output.vertex.digest, index: BigInt(output.index) };
}

/**
 * The Definition BuildKit solves for `terminal`: every reachable op once, inputs before the ops
 * that use them, then the terminal op that only names its input. Metadata carries each op's
 * capabilities and descriptions; map keys are inserted in sorted order so the bytes are stable.
 */
export function definition(terminal: Output): Definition {
  const ordered: Vertex[] = [];
  const seen = new Set<string>();
  const visit = (node: Vertex): void => {
    if (seen.has(node.digest)) return;
    seen.add(node.digest);
    node.inputs.forEach(visit);
    ordered.push(node);
  };
  visit(terminal.vertex);
  const last = vertex(create(OpSchema, { inputs: [inputOf(terminal)] }), [terminal.vertex], []);
  const metadata: Definition['metadata'] = {};
  for (const node of [...ordered].sort((a, b) => (a.digest < b.digest ? -1 : 1))) {
    if (node.caps.length === 0 && Object.keys(node.description).length === 0) continue;
    metadata[node.digest] = create(OpMetadataSchema, {
      caps: Object.fromEntries(node.caps.map((cap) => [cap, true])),
      description: Object.fromEntries(Object.entries(node.description).sort(([a], [b]) => (a < b ? -1 : 1))),
    });
  }
  return create(DefinitionSchema, { def: [...ordered.map((node) => node.bytes), last.bytes], metadata });
}
