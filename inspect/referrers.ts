import { GociError } from '../common/errors.js';
import { referrersTag } from '../oci/artifact.js';
import type { Descriptor } from '../oci/descriptor.js';
import { BlobCheck, blobFile, blobSize, objectOf, readJsonBlob, type ImageFiles } from './image-files.js';
import { REF_NAME } from '../oci/layout.js';
import { descriptorsIn, readLayoutIndex } from './read-layout.js';
import { SBOM_ARTIFACT_TYPES, type SbomFormat } from '../images/sbom/artifacts.js';

/** One manifest that refers to a platform image (its `subject`), as `goci inspect` lists it. */
export interface ReferrerReport {
  digest: string;
  /** The artifact's type: `application/spdx+json` for goci's SPDX SBOMs. */
  artifactType: string;
  /** Bytes of the referrer's manifest. */
  size: number;
  annotations: Record<string, string>;
}

/**
 * Where a source lists the referrers of a manifest: a registry's referrers API (or its
 * `sha256-<hex>` tag), an OCI layout's `sha256-<hex>` tagged index. The manifests it names are
 * read through the source's ImageFiles.
 */
export interface ReferrerSource {
  /** The descriptors of the manifests whose subject is the manifest `subject` (a verified digest). */
  list(subject: string): Promise<Descriptor[]>;
}

/** A source that stores no referrers (a docker archive without an OCI layout). */
export const NO_REFERRERS: ReferrerSource = { list: async () => [] };

/** The SBOM a platform image carries, as `goci inspect --sbom` prints it. */
export interface SbomReport {
  format: SbomFormat;
  artifactType: string;
  /** The artifact manifest the SBOM was found through. */
  referrer: string;
  /** The SBOM's own blob. */
  blob: { digest: string; size: number };
  document: unknown;
}

/** An SBOM bigger than this is not one goci wrote (a Go program's is a few KiB to a few MiB). */
const MAX_SBOM = 64 << 20;
const SBOM_FORMATS = new Map(Object.entries(SBOM_ARTIFACT_TYPES).map(([format, type]) => [type, format as SbomFormat]));

/**
 * The referrers of an OCI layout (directory or archive): the index tagged `sha256-<subject hex>`
 * in index.json, as goci build stores them and as the distribution spec's fallback names them.
 * index.json is read once; each index is verified against its digest.
 */
export function layoutReferrers(files: ImageFiles): ReferrerSource {
  let tagged: Promise<Map<string, Descriptor>> | undefined;
  return {
    async list(subject) {
      tagged ??= readLayoutIndex(files).then((entries) => {
        const byTag = new Map<string, Descriptor>();
        for (const entry of entries) {
          const name = entry.annotations?.[REF_NAME];
          if (typeof name === 'string') byTag.set(name, entry);
        }
        return byTag;
      });
      const entry = (await tagged).get(referrersTag(subject));
      if (entry === undefined) return [];
      const role = `the referrers index of ${subject}`;
      const { document, digest } = await readJsonBlob(files, blobFile(entry.digest, role), entry, role);
      const record = objectOf(document, `${role} ${digest}`, files);
      return record.manifests === undefined || record.manifests === null
        ? []
        : descriptorsIn(files, record.manifests, `${role} ${digest}`);
    },
  };
}

/**
 * The referrers of one manifest, in the order the source lists them. The artifact type and
 * annotations come from the list; when the list leaves the type out (as a referrers index may),
 * the referrer's manifest is read for it: its artifactType, else its config's media type.
 */
export async function listReferrers(
  files: ImageFiles,
  source: ReferrerSource,
  subject: string,
): Promise<ReferrerReport[]> {
  const reports: ReferrerReport[] = [];
  for (const descriptor of await source.list(subject)) {
    let artifactType =
      typeof descriptor.artifactType === 'string' && descriptor.artifactType !== ''
        ? descriptor.artifactType
        : undefined;
    let annotations = descriptor.annotations;
    if (artifactType === undefined) {
      const manifest = await readReferrerManifest(files, descriptor, subject);
      const config = manifest.config as { mediaType?: unknown } | undefined;
      artifactType =
        typeof manifest.artifactType === 'string' && manifest.artifactType !== ''
          ? manifest.artifactType
          : typeof config?.mediaType === 'string'
            ? config.mediaType
            : descriptor.mediaType;
      annotations ??= manifest.annotations as Record<string, string> | undefined;
    }
    reports.push({
      digest: descriptor.digest,
      artifactType,
      size: descriptor.size,
      annotations: stringsOnly(annotations),
    });
  }
  return reports;
}

/**
 * The SBOM attached to the manifest `subject`: the newest referrer (the last listed) whose
 * artifact type is SPDX or CycloneDX JSON. Its manifest must name `subject`, and its payload
 * blob is checked against the digest and size the manifest gives before it is parsed.
 * `where` names the image in messages (`the linux/arm64 image of docker://…`).
 */
export async function readSbom(
  files: ImageFiles,
  source: ReferrerSource,
  subject: string,
  where: string,
): Promise<SbomReport> {
  const referrers = await listReferrers(files, source, subject);
  const chosen = referrers.filter((referrer) => SBOM_FORMATS.has(referrer.artifactType)).at(-1);
  if (chosen === undefined) {
    const types = [...new Set(referrers.map((referrer) => referrer.artifactType))];
    throw new GociError(
      'NOT_FOUND',
      `${where} has no SBOM (its referrers: ${types.length > 0 ? types.join(', ') : 'none'})`,
      {
        hint: `goci build attaches one to each platform image unless --sbom none; goci reads ${[...SBOM_FORMATS.keys()].join(' and ')} referrers`,
      },
    );
  }
  const manifest = await readReferrerManifest(
    files,
    { mediaType: '', digest: chosen.digest, size: chosen.size },
    subject,
  );
  const role = `the SBOM manifest ${chosen.digest}`;
  const layers = descriptorsIn(files, manifest.layers ?? [], role);
  const layer =
    layers.find((item) => item.mediaType === chosen.artifactType) ?? (layers.length === 1 ? layers[0] : undefined);
  if (layer === undefined) {
    throw new GociError(
      'IO_FAILED',
      `${role} in ${files.description} has ${layers.length} layers and none of type ${chosen.artifactType}, so no SBOM to read`,
    );
  }
  const blobRole = `SBOM of ${where.replace(/^the /, '')}`;
  const path = blobFile(layer.digest, blobRole);
  const expect = { digest: layer.digest, size: layer.size };
  const size = await blobSize(files, path, expect, blobRole);
  if (size > MAX_SBOM)
    throw new GociError(
      'IO_FAILED',
      `${blobRole} (${layer.digest}) in ${files.description} has ${size} bytes, more than goci reads as an SBOM`,
    );
  const bytes = await files.read(path, 0, size);
  const check = new BlobCheck(files, path, expect, blobRole);
  check.update(bytes);
  check.check();
  let document: unknown;
  try {
    document = JSON.parse(bytes.toString('utf8'));
  } catch (error) {
    throw new GociError(
      'IO_FAILED',
      `${blobRole} (${layer.digest}) in ${files.description} is not JSON: ${(error as Error).message}`,
      { cause: error },
    );
  }
  return {
    format: SBOM_FORMATS.get(chosen.artifactType)!,
    artifactType: chosen.artifactType,
    referrer: chosen.digest,
    blob: expect,
    document,
  };
}

/** A referrer's manifest, verified against its descriptor; it must name `subject` when it names one. */
async function readReferrerManifest(
  files: ImageFiles,
  descriptor: Descriptor,
  subject: string,
): Promise<Record<string, unknown>> {
  const role = `the referrer manifest ${descriptor.digest}`;
  const { document } = await readJsonBlob(files, blobFile(descriptor.digest, role), descriptor, role);
  const manifest = objectOf(document, role, files);
  const named = (manifest.subject as { digest?: unknown } | undefined)?.digest;
  if (named !== undefined && named !== subject) {
    throw new GociError(
      'IO_FAILED',
      `${role} in ${files.description} is listed as a referrer of ${subject} but names the subject ${String(named)}`,
      {
        hint: `the referrers index (tag ${referrersTag(subject)}) is wrong: push or write the artifact again`,
      },
    );
  }
  return manifest;
}

function stringsOnly(value: unknown): Record<string, string> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return {};
  return Object.fromEntries(
    Object.entries(value as Record<string, unknown>).filter(
      (entry): entry is [string, string] => typeof entry[1] === 'string',
    ),
  );
}
