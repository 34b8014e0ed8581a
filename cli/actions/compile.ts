import { displayPath } from '../../common/display-path.js';
import { publishStaged, type DistBinary } from '../../compiler/compile.js';
import type { BuildFlags } from '../build-options.js';
import { planAndBuild } from '../builder.js';
import { formatSeconds, formatSize, renderTable } from '../table.js';

/** `goci compile DIRS...`: the binaries into <dist>/bin, and a table (or JSON) of them. */
export async function compile(dirs: string[], flags: BuildFlags): Promise<void> {
  const { plan, staged } = await planAndBuild(dirs, flags);
  if (!staged) return;
  const binaries = await publishStaged(staged);
  process.stdout.write(
    flags.json
      ? `${JSON.stringify({ version: plan.targets[0]?.stamp.version, binaries }, null, 2)}\n`
      : binaryTable(binaries),
  );
}

function binaryTable(binaries: DistBinary[]): string {
  return renderTable(
    ['TARGET', 'FILE', 'SIZE', 'SHA256', 'TIME'],
    binaries.map((binary) => [
      binary.platform,
      displayPath(binary.path),
      formatSize(binary.size),
      binary.sha256.slice(0, 16),
      binary.cached ? 'cached' : formatSeconds(binary.seconds),
    ]),
    [2, 4],
  );
}
