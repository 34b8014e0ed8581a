import { GociError } from '../common/errors.js';
import { inspectBuffer } from './binary/inspect.js';
import type { BinaryReport } from './binary/types.js';
import type { Target } from './plan.js';
import { formatPlatform } from './platform.js';

const AR_MAGIC = Buffer.from('!<arch>\n');

/**
 * The promises goci makes about every binary, checked on the bytes themselves: it is an
 * executable (go build happily writes an archive for a non-main package), a Linux binary is
 * static so it runs on scratch, and no absolute source path survived -trimpath. Returns what
 * the bytes say (build info, linkage), read once for the checks and the image stage.
 */
export function verifyBinary(target: Target, bytes: Buffer): BinaryReport {
  const label = `${target.binary} (${formatPlatform(target.platform)})`;
  if (bytes.subarray(0, AR_MAGIC.length).equals(AR_MAGIC)) {
    throw new GociError(
      'NOT_MAIN_PACKAGE',
      `${label}: ${target.command.package} in ${target.command.cwd} is not a main package, so go build made a library archive, not a program`,
      {
        hint: 'point dir/main at the package that declares "package main" and func main',
      },
    );
  }
  const report = inspectBuffer(bytes, label);
  if (target.platform.os === 'linux') checkStatic(label, report);
  for (const path of target.sourcePaths) {
    if (contains(bytes, path)) {
      throw new GociError(
        'PATH_LEAK',
        `${label}: the binary contains the source path ${path}, so it is not reproducible across machines`,
        {
          hint: 'remove flags that undo -trimpath (for example -gcflags=all=-trimpath= or embedded absolute paths)',
        },
      );
    }
  }
  return report;
}

/** An ASCII path is searched as latin1, which Node's search runs a third faster than a UTF-8 needle. */
function contains(bytes: Buffer, path: string): boolean {
  return /^[\x20-\x7e]*$/.test(path) ? bytes.includes(path, 0, 'latin1') : bytes.includes(Buffer.from(path));
}

function checkStatic(label: string, report: BinaryReport): void {
  if (report.static) return;
  const needs = [
    report.interpreter ? `interpreter ${report.interpreter}` : undefined,
    report.needed.length > 0 ? `needs ${report.needed.join(', ')}` : undefined,
  ].filter(Boolean);
  throw new GociError(
    'NOT_STATIC',
    `${label}: the binary is dynamically linked (${needs.join('; ')}), so it cannot run on a scratch or distroless-static image`,
    {
      hint: 'build with CGO_ENABLED=0 (remove CGO_ENABLED=1 from the build env) or use pure-Go dependencies',
    },
  );
}
