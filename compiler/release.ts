import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../common/atomic.js';
import { found } from '../common/found.js';
import { renderChecksums } from './archive/checksums.js';
import type { ArchiveEntry } from './archive/entry.js';
import { writeTarGz } from './archive/tar-gz.js';
import { writeZip } from './archive/zip.js';
import type { DistBinary } from './compile.js';
import { findModule } from './module.js';
import { archiveFileName, installedBinaryName } from './naming.js';
import type { Plan, Target } from './plan.js';
import { formatPlatform } from './platform.js';

export interface ReleaseArchive {
  platform: string;
  binary: string;
  path: string;
  size: number;
  sha256: string;
}

export interface Release {
  archives: ReleaseArchive[];
  checksums: string;
}

const README = /^readme(\.(md|txt|rst))?$/i;
const LICENSE = /^(licen[cs]e|copying)(\.(md|txt))?$/i;

/**
 * One archive per target (tar.gz, or zip for Windows) with the binary plus README and LICENSE,
 * every header fixed to the source date, and checksums.txt over them: rebuilding the same
 * commit gives the same bytes.
 */
export async function writeRelease(plan: Plan, binaries: DistBinary[], distDir: string): Promise<Release> {
  const releaseDir = join(distDir, 'release');
  const archives: ReleaseArchive[] = [];
  for (const binary of binaries) {
    const target = found(
      plan.targets.find(
        (candidate) => formatPlatform(candidate.platform) === binary.platform && candidate.buildId === binary.build,
      ),
      `the target of the compiled binary ${binary.build} ${binary.platform}`,
    );
    const entries: ArchiveEntry[] = [
      { name: installedBinaryName(target.binary, target.platform), source: binary.path, mode: 0o755 },
      ...(await documentEntries(target)),
    ];
    const name = archiveFileName(target.binary, target.stamp.version, target.platform);
    const write = target.platform.os === 'windows' ? writeZip : writeTarGz;
    const written = await write(join(releaseDir, name), entries, { mtime: target.stamp.epoch });
    archives.push({
      platform: binary.platform,
      binary: target.binary,
      path: written.path,
      size: written.size,
      sha256: written.sha256,
    });
  }
  const checksums = join(releaseDir, 'checksums.txt');
  await writeFileAtomic(
    checksums,
    renderChecksums(
      archives.map((archive) => ({ name: archive.path.slice(releaseDir.length + 1), sha256: archive.sha256 })),
    ),
  );
  return { archives, checksums };
}

/** README and LICENSE from the package directory, else from the module root. */
async function documentEntries(target: Target): Promise<ArchiveEntry[]> {
  const dirs = [target.command.cwd, (await findModule(target.command.cwd)).root].filter(
    (dir): dir is string => dir !== undefined,
  );
  const entries: ArchiveEntry[] = [];
  for (const pattern of [README, LICENSE]) {
    for (const dir of dirs) {
      const name = (await readdir(dir).catch(() => [] as string[])).sort().find((file) => pattern.test(file));
      if (name) {
        entries.push({ name, source: join(dir, name), mode: 0o644 });
        break;
      }
    }
  }
  return entries;
}
