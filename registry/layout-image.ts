import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { displayPath } from '../common/display-path.js';
import { GociError } from '../common/errors.js';
import { sha256Digest, type Descriptor, type JsonBlob } from '../images/descriptor.js';
import type { ImageManifest } from '../images/manifest.js';
import { MEDIA_TYPES } from '../images/media-types.js';
import { REF_NAME, blobPath } from '../images/oci-layout.js';
import { isReferrersTag } from '../images/artifact.js';

/** A tagged multi-platform image as it sits in an OCI layout, ready to push. */
export interface LayoutImage {
  index: JsonBlob;
  indexMediaType: string;
  images: ImageManifest[];
}

const INDEX_TYPES = new Set([MEDIA_TYPES.oci.index, MEDIA_TYPES.docker.index]);

async function verifiedBlob(layoutDir: string, digest: string): Promise<JsonBlob> {
  const bytes = await readFile(blobPath(layoutDir, digest)).catch(() => {
    throw new GociError('NOT_FOUND', `${displayPath(layoutDir)} has no blob ${digest}`, {
      hint: 'the layout is incomplete: write it again with goci build',
    });
  });
  if (sha256Digest(bytes) !== digest)
    throw new GociError('DIGEST_MISMATCH', `blob ${digest} in ${displayPath(layoutDir)}: digest mismatch`, {
      hint: 'the layout was changed after it was written: write it again',
    });
  return { bytes, digest, size: bytes.length };
}

/** Reads the index a tag names (the only tag when none is given) and every manifest and config under it. */
export async function readLayoutImage(layoutDir: string, tag: string | undefined): Promise<LayoutImage> {
  const top = JSON.parse(
    await readFile(join(layoutDir, 'index.json'), 'utf8').catch(() => {
      throw new GociError('NOT_FOUND', `${displayPath(layoutDir)} is not an OCI layout (no index.json)`, {
        hint: 'write one with goci build --oci-layout DIR',
      });
    }),
  ) as { manifests: Descriptor[] };
  const tagged = top.manifests.filter((entry) => !isReferrersTag(entry.annotations?.[REF_NAME]));
  const entry =
    tag === undefined
      ? tagged.length === 1
        ? tagged[0]
        : undefined
      : top.manifests.find((candidate) => candidate.annotations?.[REF_NAME] === tag);
  if (!entry || !INDEX_TYPES.has(entry.mediaType)) {
    const tags = tagged
      .map((candidate) => candidate.annotations?.[REF_NAME])
      .filter(Boolean)
      .join(', ');
    throw new GociError(
      'NOT_FOUND',
      `${displayPath(layoutDir)} has no multi-platform image ${tag === undefined ? 'to choose without a tag' : `tagged ${tag}`} (its tags: ${tags || 'none'})`,
      { hint: 'name the tag: oci:DIR:TAG' },
    );
  }
  const index = await verifiedBlob(layoutDir, entry.digest);
  const document = JSON.parse(index.bytes.toString('utf8')) as { manifests: Descriptor[] };
  const images: ImageManifest[] = [];
  for (const descriptor of document.manifests) {
    const manifest = await verifiedBlob(layoutDir, descriptor.digest);
    const parsed = JSON.parse(manifest.bytes.toString('utf8')) as { config: Descriptor; layers: Descriptor[] };
    const config = await verifiedBlob(layoutDir, parsed.config.digest);
    images.push({ platform: descriptor.platform!, config, layers: parsed.layers, manifest, descriptor });
  }
  return { index, indexMediaType: entry.mediaType, images };
}
