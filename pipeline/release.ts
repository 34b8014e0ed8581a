import { ignoreIfCreated } from '../common/output-root.js';
import { join, relative } from 'node:path';
import { uninterrupted } from '../common/interrupt.js';
import { ownedScratch } from '../common/owner.js';
import { FilePublication } from '../common/publish.js';
import type { StagedBinaries } from '../compiler/compile.js';
import type { Plan } from '../compiler/plan.js';
import { type Release, writeRelease } from '../compiler/release.js';

/**
 * Packages staged binaries into archives and checksums.txt, written to scratch, then publishes
 * binaries, archives and checksums into `dist` together (or not at all).
 */
export async function releaseStaged(plan: Plan, staged: StagedBinaries, dist: string): Promise<Release> {
  try {
    const ignore = await ignoreIfCreated(dist);
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
      await ignore();
      return {
        archives: written.archives.map((archive) => ({ ...archive, path: final(archive.path) })),
        checksums: final(written.checksums),
      };
    } finally {
      await scratch.dispose();
    }
  } finally {
    await staged.dispose();
  }
}
