import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { displayPath } from '../common/display-path.js';
import { GociError } from '../common/errors.js';
import { isReferrersTag, referrersTag, type Artifact } from './artifact.js';
import { sha256Digest, type Descriptor, type JsonBlob } from './descriptor.js';
import type { ImageManifest } from './manifest.js';
import { MEDIA_TYPES } from './media-types.js';
import { REF_NAME, blobPath } from './layout.js';
import type { Index, Referrer } from './index.js';
import { indexValue } from './index-value.js';
import { layoutStore } from './layout-store.js';

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

function parsed<T>(blob: JsonBlob): T {
  return JSON.parse(blob.bytes.toString('utf8')) as T;
}

async function readTopIndex(layoutDir: string): Promise<Descriptor[]> {
  const text = await readFile(join(layoutDir, 'index.json'), 'utf8').catch(() => {
    throw new GociError('NOT_FOUND', `${displayPath(layoutDir)} is not an OCI layout (no index.json)`, {
      hint: 'write one with goci build --oci-layout DIR',
    });
  });
  return (JSON.parse(text) as { manifests: Descriptor[] }).manifests;
}

function chooseEntry(layoutDir: string, manifests: Descriptor[], tag: string | undefined): Descriptor {
  const tagged = manifests.filter((entry) => !isReferrersTag(entry.annotations?.[REF_NAME]));
  const entry =
    tag === undefined
      ? tagged.length === 1
        ? tagged[0]
        : undefined
      : manifests.find((candidate) => candidate.annotations?.[REF_NAME] === tag);
  if (entry && INDEX_TYPES.has(entry.mediaType)) return entry;
  const tags = tagged
    .map((candidate) => candidate.annotations?.[REF_NAME])
    .filter(Boolean)
    .join(', ');
  const which = tag === undefined ? 'to choose without a tag' : `tagged ${tag}`;
  throw new GociError(
    'NOT_FOUND',
    `${displayPath(layoutDir)} has no multi-platform image ${which} (its tags: ${tags || 'none'})`,
    { hint: 'name the tag: oci:DIR:TAG' },
  );
}

/** An artifact listed in a referrers index, read back whole: its manifest and its one payload blob. */
async function readArtifact(layoutDir: string, descriptor: Descriptor): Promise<Artifact> {
  const manifest = await verifiedBlob(layoutDir, descriptor.digest);
  const document = parsed<{ artifactType?: string; layers?: Descriptor[] }>(manifest);
  const layer = document.layers?.[0];
  if (!layer)
    throw new GociError(
      'BAD_ARGUMENT',
      `the artifact ${descriptor.digest} in ${displayPath(layoutDir)} has no payload`,
    );
  const artifactType = descriptor.artifactType ?? document.artifactType ?? layer.mediaType;
  return { artifactType, payload: await verifiedBlob(layoutDir, layer.digest), manifest, descriptor };
}

/** The artifacts a layout lists under each subject (the index, its images): the index tagged `sha256-<hex>`. */
async function layoutReferrers(layoutDir: string, manifests: Descriptor[], subjects: Descriptor[]) {
  const referrers: Referrer[] = [];
  for (const subject of subjects) {
    const tag = referrersTag(subject.digest);
    const entry = manifests.find((candidate) => candidate.annotations?.[REF_NAME] === tag);
    if (!entry) continue;
    const list = parsed<{ manifests?: Descriptor[] }>(await verifiedBlob(layoutDir, entry.digest));
    for (const descriptor of list.manifests ?? [])
      referrers.push({ artifact: await readArtifact(layoutDir, descriptor), subject });
  }
  return referrers;
}

/**
 * The index a tag names in an OCI layout (the only tag when none is given), every manifest and
 * config under it read and verified, with the artifacts (SBOMs, attestations, signatures) the
 * layout lists under it and its images.
 */
export async function readLayoutIndexValue(layoutDir: string, tag: string | undefined): Promise<Index> {
  const manifests = await readTopIndex(layoutDir);
  const entry = chooseEntry(layoutDir, manifests, tag);
  const index = await verifiedBlob(layoutDir, entry.digest);
  const images: ImageManifest[] = [];
  for (const descriptor of parsed<{ manifests: Descriptor[] }>(index).manifests) {
    const manifest = await verifiedBlob(layoutDir, descriptor.digest);
    const { config, layers } = parsed<{ config: Descriptor; layers: Descriptor[] }>(manifest);
    const platform = descriptor.platform ?? { os: 'unknown', architecture: 'unknown' };
    images.push({ platform, config: await verifiedBlob(layoutDir, config.digest), layers, manifest, descriptor });
  }
  const subject = { mediaType: entry.mediaType, digest: entry.digest, size: entry.size };
  const subjects = [subject, ...images.map((image) => image.descriptor)];
  const referrers = await layoutReferrers(layoutDir, manifests, subjects);
  return indexValue({ index, mediaType: entry.mediaType, images, referrers, store: layoutStore(layoutDir) });
}
