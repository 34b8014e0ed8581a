import { mkdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../common/atomic.js';
import { displayPath } from '../common/display-path.js';
import { GociError } from '../common/errors.js';
import { canonicalJson, type Descriptor, type JsonBlob } from './descriptor.js';
import { MEDIA_TYPES } from './media-types.js';

/** The annotation an OCI layout's index.json names its tags with. */
export const REF_NAME = 'org.opencontainers.image.ref.name';
const LAYOUT_FILE = { imageLayoutVersion: '1.0.0' };

interface LayoutIndex {
  schemaVersion: 2;
  mediaType?: string;
  manifests: Descriptor[];
}

/** Creates the layout's blob store, failing with one clear line before any work is done. */
export async function prepareLayout(layoutDir: string): Promise<void> {
  await mkdir(layoutBlobDir(layoutDir), { recursive: true }).catch((error: NodeJS.ErrnoException) => {
    throw new GociError('IO_FAILED', `cannot write the OCI layout ${displayPath(layoutDir)}: ${error.code ?? error.message}`, {
      hint: 'choose a writable directory with --oci-layout',
    });
  });
}

export function layoutBlobDir(layoutDir: string): string {
  return join(layoutDir, 'blobs', 'sha256');
}

export function blobPath(layoutDir: string, digest: string): string {
  return join(layoutBlobDir(layoutDir), digest.replace(/^sha256:/, ''));
}

/** Blobs are named by their digest, so one that exists already holds these bytes: write it once. */
export async function writeJsonBlob(layoutDir: string, blob: JsonBlob): Promise<void> {
  const path = blobPath(layoutDir, blob.digest);
  if (await stat(path).then(() => true, () => false)) return;
  await writeFileAtomic(path, blob.bytes);
}

async function readLayoutIndex(layoutDir: string): Promise<LayoutIndex> {
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
    throw new GociError('BAD_ARGUMENT', `${layoutDir} holds an index.json that is not an OCI index (${(error as Error).message})`, {
      hint: 'point --oci-layout at an empty directory or an existing OCI layout',
    });
  }
}

/**
 * Records `descriptor` under `tag` in the layout. Call it after every blob it refers to is
 * written: index.json is replaced in one rename, so a reader sees the old layout or the new
 * one, never a tag pointing at missing blobs. Other tags are kept.
 */
export async function tagInLayout(layoutDir: string, descriptor: Descriptor, tag: string): Promise<void> {
  await writeFileAtomic(join(layoutDir, 'oci-layout'), canonicalJson(LAYOUT_FILE));
  const index = await readLayoutIndex(layoutDir);
  const others = index.manifests.filter((entry) => entry.annotations?.[REF_NAME] !== tag);
  const entry: Descriptor = { ...descriptor, annotations: { ...descriptor.annotations, [REF_NAME]: tag } };
  await writeFileAtomic(join(layoutDir, 'index.json'), canonicalJson({ ...index, manifests: [...others, entry] }));
}
