import { Command } from 'commander';
import { displayPath } from '../../common/display-path.js';
import { writeRelease } from '../../compiler/release.js';
import { addBuildOptions, distDir, type BuildFlags } from '../build-options.js';
import { formatSize, renderTable } from '../table.js';
import { planAndCompile } from './compile.js';

export function releaseCommand(): Command {
  return addBuildOptions(new Command('release'))
    .description('compile every target and package each into a reproducible archive with checksums.txt in <dist>/release')
    .argument('[dirs...]', 'directories of Go main packages (or of a goci.yaml); default: the current directory')
    .action(async (dirs: string[], flags: BuildFlags) => {
      const { plan, binaries } = await planAndCompile(dirs, flags);
      if (!binaries) return;
      const release = await writeRelease(plan, binaries, distDir(flags));
      if (flags.json) {
        process.stdout.write(`${JSON.stringify({ version: plan.targets[0]?.stamp.version, binaries, ...release }, null, 2)}\n`);
        return;
      }
      const rows = release.archives.map((archive) => [archive.platform, displayPath(archive.path), formatSize(archive.size), archive.sha256.slice(0, 16)]);
      process.stdout.write(renderTable(['TARGET', 'ARCHIVE', 'SIZE', 'SHA256'], rows, [2]));
      process.stdout.write(`checksums: ${displayPath(release.checksums)}\n`);
    });
}
