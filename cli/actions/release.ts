import { displayPath } from '../../common/display-path.js';
import { releaseStaged } from '../../pipeline/release.js';
import { distDir, type BuildFlags } from '../build-options.js';
import { planAndBuild } from '../builder.js';
import { formatSize, renderTable } from '../table.js';

/** `goci release DIRS...`: every target's archive and checksums.txt in <dist>/release. */
export async function release(dirs: string[], flags: BuildFlags): Promise<void> {
  const { plan, staged } = await planAndBuild(dirs, flags);
  if (!staged) return;
  const { binaries } = staged;
  const release = await releaseStaged(plan, staged, distDir(flags));
  if (flags.json) {
    const json = { version: plan.targets[0]?.stamp.version, binaries, ...release };
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
}
