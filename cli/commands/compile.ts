import { Command } from 'commander';
import { displayPath } from '../../common/display-path.js';
import { publishStaged, type DistBinary } from '../../compiler/compile.js';
import { addBuildOptions, type BuildFlags } from '../build-options.js';
import { planAndBuild } from '../builder.js';
import { formatSeconds, formatSize, renderTable } from '../table.js';

export function compileCommand(): Command {
  return addBuildOptions(new Command('compile'))
    .description('cross-compile static, stamped Go binaries into <dist>/bin')
    .argument('[dirs...]', 'directories of Go main packages (or of a goci.yaml); default: the current directory')
    .action(async (dirs: string[], flags: BuildFlags) => {
      const { plan, staged } = await planAndBuild(dirs, flags);
      if (!staged) return;
      const binaries = await publishStaged(staged);
      process.stdout.write(
        flags.json
          ? `${JSON.stringify({ version: plan.targets[0]?.stamp.version, binaries }, null, 2)}\n`
          : binaryTable(binaries),
      );
    });
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
