import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../common/atomic.js';
import { displayPath } from '../common/display-path.js';
import { GociError } from '../common/errors.js';
import { withLock } from '../common/lock.js';
import { canonicalJson, sha256Digest, type Descriptor, type JsonBlob } from './descriptor.js';
import { MEDIA_TYPES } from './media-types.js';

/** The annotation an OCI layout's index.json names its tags with. */
export const REF_NAME = 'org.opencontainers.image.ref.name';
export const LAYOUT_FILE = { imageLayoutVersion: '1.0.0' };

export interface LayoutIndex {
  schemaVersion: 2;
  mediaType?: string;
  manifests: Descriptor[];
}

/** Creates the layout's blob store, failing with one clear line before any work is done. */
export async function prepareLayout(layoutDir: string): Promise<void> {
  await mkdir(layoutBlobDir(layoutDir), { recursive: true }).catch((error: NodeJS.ErrnoException) => {
    throw new GociError(
      'IO_FAILED',
      `cannot write the OCI layout ${displayPath(layoutDir)}: ${error.code ?? error.message}`,
      {
        hint: 'choose a writable directory with --oci-layout',
      },
    );
  });
}

export function layoutBlobDir(layoutDir: string): string {
  return join(layoutDir, 'blobs', 'sha256');
}

export function blobPath(layoutDir: string, digest: string): string {
  return join(layoutBlobDir(layoutDir), digest.replace(/^sha256:/, ''));
}

/** Writes a document blob, unless one with these exact bytes is there already (a damaged one is replaced). */
export async function writeJsonBlob(layoutDir: string, blob: JsonBlob): Promise<void> {
  const path = blobPath(layoutDir, blob.digest);
  const present = await readFile(path).catch(() => undefined);
  if (present && sha256Digest(present) === blob.digest) return;
  await writeFileAtomic(path, blob.bytes);
}

/** The lock that serialises index.json updates of `layoutDir`: a hidden file in it, there only while held. */
export function layoutLockPath(layoutDir: string): string {
  return join(layoutDir, '.goci-lock');
}

/** index.json's text with `entries` (tag → descriptor) set, every other tag kept. */
export function layoutIndexWith(index: LayoutIndex, entries: ReadonlyMap<string, Descriptor>): string {
  const others = index.manifests.filter((entry) => !entries.has(entry.annotations?.[REF_NAME] ?? ''));
  const added = [...entries].map(
    ([tag, descriptor]): Descriptor => ({ ...descriptor, annotations: { ...descriptor.annotations, [REF_NAME]: tag } }),
  );
  return canonicalJson({ ...index, manifests: [...others, ...added] });
}

export async function readLayoutIndex(layoutDir: string): Promise<LayoutIndex> {
  const text = await readFile(join(layoutDir, 'index.json'), 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw error;
  });
  if (text === undefined) return { schemaVersion: 2, mediaType: MEDIA_TYPES.oci.index, manifests: [] };
  try {
    const index = JSON.parse(text) as LayoutIndex;
    if (!Array.isArray(index.manifests)) throw new Error('no manifests list');
    return index;
  } catch (error) {
    throw new GociError(
      'BAD_ARGUMENT',
      `${layoutDir} holds an index.json that is not an OCI index (${(error as Error).message})`,
      {
        hint: 'point --oci-layout at an empty directory or an existing OCI layout',
      },
    );
  }
}

/**
 * Records `descriptor` under `tag` in the layout. Call it after every blob it refers to is
 * written: index.json is replaced in one rename, so a reader sees the old layout or the new
 * one, never a tag pointing at missing blobs. Other tags are kept.
 */
export async function tagInLayout(layoutDir: string, descriptor: Descriptor, tag: string): Promise<void> {
  // Under the layout's lock: another run tagging the same layout at once must not lose its tag.
  await withLock(layoutLockPath(layoutDir), async () => {
    await writeFileAtomic(join(layoutDir, 'oci-layout'), canonicalJson(LAYOUT_FILE));
    const index = await readLayoutIndex(layoutDir);
    await writeFileAtomic(join(layoutDir, 'index.json'), layoutIndexWith(index, new Map([[tag, descriptor]])));
  });
}
