import { join, relative } from 'node:path';
import { Command } from 'commander';
import { displayPath } from '../../common/display-path.js';
import { uninterrupted } from '../../common/interrupt.js';
import { ownedScratch } from '../../common/owner.js';
import { FilePublication } from '../../common/publish.js';
import { makePlan } from '../../compiler/plan.js';
import { type Release, writeRelease } from '../../compiler/release.js';
import { addBuildOptions, compileRequest, distDir, type BuildFlags } from '../build-options.js';
import { makeProgress } from '../progress.js';
import { formatSize, renderTable } from '../table.js';
import { compilePlanStaged } from './compile.js';
import type { StagedBinaries } from '../../compiler/compile.js';

export function releaseCommand(): Command {
  return addBuildOptions(new Command('release'))
    .description(
      'compile every target and package each into a reproducible archive with checksums.txt in <dist>/release',
    )
    .argument('[dirs...]', 'directories of Go main packages (or of a goci.yaml); default: the current directory')
    .action(async (dirs: string[], flags: BuildFlags) => {
      const plan = await makePlan(compileRequest(dirs, flags));
      const progress = makeProgress(flags.progress, flags.verbose === true);
      let staged: StagedBinaries | undefined;
      try {
        staged = await compilePlanStaged(plan, flags, progress);
      } finally {
        progress.finish();
      }
      if (!staged) return;
      // Binaries, archives and checksums.txt are written to scratch, then published together (or not at all).
      const dist = distDir(flags);
      let release: Release;
      try {
        const scratch = await ownedScratch('stage');
        try {
          const written = await writeRelease(plan, staged.inScratch, scratch.dir);
          const final = (path: string): string => join(dist, relative(scratch.dir, path));
          const files = [
            ...staged.files,
            ...written.archives.map((archive) => ({ from: archive.path, to: final(archive.path) })),
            { from: written.checksums, to: final(written.checksums) },
          ];
          await uninterrupted(() => new FilePublication(files).publish());
          release = {
            archives: written.archives.map((archive) => ({ ...archive, path: final(archive.path) })),
            checksums: final(written.checksums),
          };
        } finally {
          await scratch.dispose();
        }
      } finally {
        await staged.dispose();
      }
      if (flags.json) {
        const json = { version: plan.targets[0]?.stamp.version, binaries: staged.binaries, ...release };
        process.stdout.write(`${JSON.stringify(json, null, 2)}\n`);
        return;
      }
      const rows = release.archives.map((archive) => [
        archive.platform,
        displayPath(archive.path),
        formatSize(archive.size),
        archive.sha256.slice(0, 16),
      ]);
      process.stdout.write(renderTable(['TARGET', 'ARCHIVE', 'SIZE', 'SHA256'], rows, [2]));
      process.stdout.write(`checksums: ${displayPath(release.checksums)}\n`);
    });
}
