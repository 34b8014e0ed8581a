import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import { execa } from 'execa';
import { extract as tarExtract } from 'tar-stream';

/** One tar entry as the parity tests compare it: everything but the mtime. */
export interface ListedEntry {
  path: string;
  type: string;
  mode: string;
  uid: number;
  gid: number;
  size: number;
  sha256: string | null;
  linkname: string | null;
}

/**
 * One platform's image from a registry: its config (without what differs by nature), each layer's
 * digest as pushed and each layer's listing.
 */
export interface PlatformImage {
  platform: string;
  config: Record<string, unknown>;
  layerDigests: string[];
  layers: ListedEntry[][];
}

interface Descriptor {
  mediaType?: string;
  digest: string;
  platform?: { os: string; architecture: string; variant?: string };
  annotations?: Record<string, string>;
}

async function blob(layout: string, digest: string): Promise<Buffer> {
  return readFile(join(layout, 'blobs', digest.replace(':', '/')));
}

/** Every entry of a gzip'd (or plain) layer tar, in tar order, with its content's sha256. */
export async function layerListing(bytes: Buffer): Promise<ListedEntry[]> {
  const tar = bytes[0] === 0x1f && bytes[1] === 0x8b ? gunzipSync(bytes) : bytes;
  const extract = tarExtract();
  const entries: ListedEntry[] = [];
  const done = new Promise<void>((resolve, reject) => {
    extract.on('entry', (header, stream, next) => {
      const hash = createHash('sha256');
      let size = 0;
      stream.on('data', (chunk: unknown) => {
        const bytes = chunk as Buffer;
        hash.update(bytes);
        size += bytes.length;
      });
      stream.on('end', () => {
        const type = header.type ?? 'file';
        entries.push({
          path: header.name.replace(/^\.?\//, '').replace(/\/$/, ''),
          type,
          mode: ((header.mode ?? 0) & 0o7777).toString(8),
          uid: header.uid ?? 0,
          gid: header.gid ?? 0,
          size,
          sha256: type === 'file' ? hash.digest('hex') : null,
          linkname: header.linkname ?? null,
        });
        next();
      });
    });
    extract.on('finish', resolve);
    extract.on('error', reject);
  });
  Readable.from([tar]).pipe(extract);
  await done;
  return entries.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/**
 * A registry image (an index or one manifest) copied with skopeo into `layout`, read per
 * platform: the config without `created`, `history` and `rootfs` (layer bytes are compared
 * by listing instead), and without `moby.buildkit.buildinfo.v1`, which BuildKit v0.11's image
 * exporter adds to the frontend's config (the sources it pulled; BuildKit's field, not goci's:
 * the CLI never writes it); the digest and listing of every layer. Attestation manifests are left out.
 */
export async function registryImages(reference: string, layout: string): Promise<PlatformImage[]> {
  await execa('skopeo', ['copy', '--all', '--src-tls-verify=false', `docker://${reference}`, `oci:${layout}:x`]);
  const top = JSON.parse(await readFile(join(layout, 'index.json'), 'utf8')) as { manifests: Descriptor[] };
  const images: PlatformImage[] = [];
  for (const entry of top.manifests) images.push(...(await imagesUnder(layout, entry)));
  return images.sort((a, b) => (a.platform < b.platform ? -1 : 1));
}

async function imagesUnder(layout: string, entry: Descriptor): Promise<PlatformImage[]> {
  const document = JSON.parse((await blob(layout, entry.digest)).toString('utf8')) as {
    manifests?: Descriptor[];
    config?: Descriptor;
    layers?: Descriptor[];
  };
  if (document.manifests) {
    const images = document.manifests
      .filter((item) => item.annotations?.['vnd.docker.reference.type'] !== 'attestation-manifest')
      .map((item) => imagesUnder(layout, item));
    return (await Promise.all(images)).flat();
  }
  const config = JSON.parse((await blob(layout, document.config?.digest ?? '')).toString('utf8')) as Record<
    string,
    unknown
  >;
  const {
    created: _created,
    history: _history,
    rootfs: _rootfs,
    'moby.buildkit.buildinfo.v1': _buildInfo,
    ...kept
  } = config;
  const platform = [config.os, config.architecture, config.variant].filter(Boolean).join('/');
  const layers = await Promise.all(
    (document.layers ?? []).map(async (layer) => layerListing(await blob(layout, layer.digest))),
  );
  const layerDigests = (document.layers ?? []).map((layer) => layer.digest);
  return [{ platform, config: kept, layerDigests, layers }];
}

/**
 * Asserts two doors' images are the same image: the same platforms, and per platform the same
 * config (but `created`, `history`, `rootfs`), the same number of layers and the same listing of
 * each layer. Given the registry base both were built on, each platform's image also starts with
 * that platform's base layers, the very blobs (by digest), in both doors.
 */
export function assertSameImages(
  equal: (actual: unknown, expected: unknown, message: string) => void,
  fromFrontend: PlatformImage[],
  fromCli: PlatformImage[],
  base: PlatformImage[] = [],
): void {
  equal(
    fromFrontend.map((image) => image.platform),
    fromCli.map((image) => image.platform),
    'platforms',
  );
  for (const [position, cli] of fromCli.entries()) {
    const frontend = fromFrontend[position];
    equal(frontend?.config, cli.config, `${cli.platform}: config`);
    equal(frontend?.layers.length, cli.layers.length, `${cli.platform}: layer count`);
    if (base.length > 0) {
      const baseDigests = base.find((image) => image.platform === cli.platform)?.layerDigests;
      const count = baseDigests?.length ?? 0;
      equal(
        cli.layerDigests.slice(0, count),
        baseDigests,
        `${cli.platform}: the CLI's image starts with the base's layers`,
      );
      equal(
        frontend?.layerDigests.slice(0, count),
        baseDigests,
        `${cli.platform}: the frontend's image starts with the base's layers`,
      );
    }
    for (const [layer, listing] of cli.layers.entries())
      equal(frontend?.layers[layer], listing, `${cli.platform}: listing of layer ${layer}`);
  }
}
