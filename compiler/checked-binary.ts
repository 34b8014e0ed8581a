import { createHash } from 'node:crypto';
import type { BinaryReport } from './binary/types.js';
import type { Target } from './plan.js';
import { verifyBinary } from './verify.js';

/**
 * A built binary that passed verifyBinary, with what the image stage decides from: the Target it
 * was built for, its report (build info, linkage), its sha256, and where its bytes are. `S` is
 * the door's handle on them: a host path in the CLI, a BuildKit output in the frontend.
 */
export interface Binary<S> {
  target: Target;
  report: BinaryReport;
  /** Hex, without `sha256:`. */
  sha256: string;
  source: S;
}

/**
 * Runs every check on a binary's bytes and keeps what the image stage needs of them. `sha256`:
 * the bytes' digest when the caller has just computed it (goci's binary cache checks every hit).
 */
export function checkedBinary<S>(target: Target, bytes: Buffer, source: S, sha256?: string): Binary<S> {
  return {
    target,
    report: verifyBinary(target, bytes),
    sha256: sha256 ?? createHash('sha256').update(bytes).digest('hex'),
    source,
  };
}
