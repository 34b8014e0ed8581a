import { mkdir, mkdtemp, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { temporarySibling, writeFileAtomic } from '../common/atomic.js';
import { trackTemporary } from '../common/interrupt.js';
import { isGociError } from '../common/errors.js';
import { fileSystemError, knownErrno } from '../common/io-error.js';
import { withLock } from '../common/lock.js';
import { ownedName, ownerTag, sweepDeadOwners } from '../common/owner.js';
import { makeDirectories, removeEmptyDirectories, type FilePublication } from '../common/publish.js';
import { checkWritable } from '../common/writable.js';
import { referrersIndex, referrersTag, type Artifact } from '../oci/artifact.js';
import { writeArtifactBlobs } from './artifact-layout.js';
import { hashFile } from '../oci/blob-file.js';
import { canonicalJson, sha256Digest, type Descriptor } from '../oci/descriptor.js';
import { MEDIA_TYPES } from '../oci/media-types.js';
import { LAYOUT_FILE, REF_NAME, layoutBlobDir, layoutIndexWith, layoutLockPath } from '../oci/layout.js';
import { readLayoutIndex, writeJsonBlob } from '../oci/layout.js';

/**
 * A scratch OCI layout a run writes every blob into before anything reaches the real layout:
 * a hidden sibling of the layout (same file system, so publishing is a rename per blob), or a
 * directory in $TMPDIR when there is no layout (push only). Its name carries the owner, so a
 * later run sweeps it if this one dies.
 */
export interface LayoutStage {
  dir: string;
  dispose(): Promise<void>;
}

/** Fails early, creating nothing, when `layoutDir` cannot be written (see checkWritable). */
export async function checkLayoutWritable(layoutDir: string): Promise<void> {
  await checkWritable(layoutDir, 'write the OCI layout');
}

export async function openLayoutStage(layoutDir: string | undefined): Promise<LayoutStage> {
  let dir: string;
  let created: string[] = [];
  if (layoutDir === undefined) {
    dir = await mkdtemp(join(tmpdir(), `goci-stage-${ownerTag()}-`));
  } else {
    // Inside the layout directory: the same file system (publishing is a rename per blob), and
    // it works where the layout is a mount point whose parent cannot be written.
    created = await makeDirectories(layoutDir).catch((error: unknown) => {
      throw fileSystemError(error, layoutDir, 'create');
    });
    await sweepDeadOwners(layoutDir, (name) => name.startsWith('.goci-'));
    dir = join(layoutDir, `.goci-stage-${ownedName()}`);
  }
  const forget = trackTemporary(dir);
  const forgetParents = created.map((path) => trackTemporary(path, true));
  try {
    await mkdir(layoutBlobDir(dir), { recursive: true });
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    await removeEmptyDirectories(created);
    throw fileSystemError(error, dir, 'create');
  }
  return {
    dir,
    async dispose() {
      await rm(dir, { recursive: true, force: true });
      // Directories this run created for the layout stay only if the layout now lives in them.
      await removeEmptyDirectories(created);
      forget();
      for (const done of forgetParents) done();
    },
  };
}

/** What a run records in the layout's index.json: tags, and artifacts listed under their subjects. */
export interface LayoutUpdate {
  tags: { tag: string; descriptor: Descriptor }[];
  attachments: { artifact: Artifact; subject: Descriptor }[];
}

async function referrersIn(layoutDir: string, entry: Descriptor | undefined): Promise<Descriptor[]> {
  if (!entry) return [];
  const bytes = await readFile(join(layoutBlobDir(layoutDir), entry.digest.slice(7))).catch(() => undefined);
  if (!bytes || sha256Digest(bytes) !== entry.digest) return [];
  return (JSON.parse(bytes.toString('utf8')) as { manifests?: Descriptor[] }).manifests ?? [];
}

/**
 * Publishes a staged run into `layoutDir` as one step, holding the layout's lock (so runs
 * writing the same layout at once lose no tag): every staged blob is moved in (a blob already
 * there is kept only when its bytes match its name; a damaged one is replaced), `also` (the
 * run's binaries) is committed, and index.json is replaced last, in one rename. Any failure
 * rolls all of it back: the layout and dist are left as they were.
 */
export async function publishLayout(
  stageDir: string,
  layoutDir: string,
  update: LayoutUpdate,
  also?: FilePublication,
): Promise<void> {
  await withLock(layoutLockPath(layoutDir), async () => {
    const blobDir = layoutBlobDir(layoutDir);
    const moved: { target: string; backup?: string }[] = [];
    let created: string[] = [];
    let wroteLayoutFile = false;
    try {
      const index = await readLayoutIndex(layoutDir);
      const entries = new Map<string, Descriptor>();
      const referrers = new Map<string, Descriptor[]>();
      for (const { artifact, subject } of update.attachments) {
        await writeArtifactBlobs(stageDir, artifact);
        const tag = referrersTag(subject.digest);
        const tagged = index.manifests.find((entry) => entry.annotations?.[REF_NAME] === tag);
        const listed = referrers.get(tag) ?? (await referrersIn(layoutDir, tagged));
        const list = referrersIndex(listed, artifact.descriptor);
        await writeJsonBlob(stageDir, list);
        const document = JSON.parse(Buffer.from(list.bytes).toString('utf8')) as { manifests: Descriptor[] };
        referrers.set(tag, document.manifests);
        entries.set(tag, { mediaType: MEDIA_TYPES.oci.index, digest: list.digest, size: list.size });
      }
      for (const { tag, descriptor } of update.tags) entries.set(tag, descriptor);
      await also?.prepare();
      created = await makeDirectories(blobDir).catch((error: unknown) => {
        throw fileSystemError(error, blobDir, 'create');
      });
      await sweepDeadOwners(blobDir);
      await sweepDeadOwners(layoutDir, (name) => name.startsWith('.goci-'));
      for (const name of await readdir(layoutBlobDir(stageDir))) {
        if (!/^[0-9a-f]{64}$/.test(name)) continue;
        const target = join(blobDir, name);
        const present = await stat(target).then(
          () => true,
          () => false,
        );
        if (present && (await hashFile(target)) === name) continue;
        const entry: { target: string; backup?: string } = { target };
        try {
          if (present) {
            entry.backup = temporarySibling(target, 'old');
            await rename(target, entry.backup);
          }
          moved.push(entry);
          await rename(join(layoutBlobDir(stageDir), name), target);
        } catch (error) {
          throw fileSystemError(error, target);
        }
      }
      await also?.commit();
      const layoutFile = join(layoutDir, 'oci-layout');
      if ((await readFile(layoutFile, 'utf8').catch(() => undefined)) !== canonicalJson(LAYOUT_FILE)) {
        await writeFileAtomic(layoutFile, canonicalJson(LAYOUT_FILE)).catch((error: unknown) => {
          throw fileSystemError(error, layoutFile);
        });
        wroteLayoutFile = true;
      }
      const indexPath = join(layoutDir, 'index.json');
      await writeFileAtomic(indexPath, layoutIndexWith(index, entries)).catch((error: unknown) => {
        throw fileSystemError(error, indexPath);
      });
    } catch (error) {
      await also?.rollback();
      for (const entry of moved.reverse()) {
        await rm(entry.target, { force: true }).catch(() => undefined);
        if (entry.backup) await rename(entry.backup, entry.target).catch(() => undefined);
      }
      if (created.length > 0) {
        // This run created the blob store (under the lock nobody else writes it): remove it whole.
        await rm(created.at(-1)!, { recursive: true, force: true }).catch(() => undefined);
      }
      if (wroteLayoutFile) await rm(join(layoutDir, 'oci-layout'), { force: true }).catch(() => undefined);
      throw error;
    }
    await also?.finish();
    for (const entry of moved) if (entry.backup) await rm(entry.backup, { force: true }).catch(() => undefined);
  });
}

/**
 * A full or read-only disk while a run writes its staged layout (a hidden directory in the
 * layout) is said about the layout itself: `cannot write the OCI layout dist/oci: no space …`.
 */
export function stagingFailure(error: unknown, layoutDir: string | undefined): unknown {
  const cause = isGociError(error) ? error.cause : error;
  const code = knownErrno(cause);
  if (layoutDir === undefined || (code !== 'ENOSPC' && code !== 'EDQUOT' && code !== 'EROFS')) return error;
  return fileSystemError(cause, layoutDir, 'write the OCI layout');
}
