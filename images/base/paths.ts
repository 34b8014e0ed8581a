import { randomUUID } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { gociCacheDir } from '../../common/cache-dir.js';
import { found } from '../../common/found.js';
import { runLimited } from '../../common/run-limited.js';
import { hashFile } from '../../oci/blob-file.js';
import type { Descriptor } from '../../oci/descriptor.js';
import type { Platform } from '../../oci/platform.js';
import type { RegistryClient } from '../../registry/client.js';
import { basePlatform } from '../append-layers.js';
import type { RemoteBaseLayers } from '../assemble.js';
import { cachedLayerListing, listLayerBlob } from '../layer-listing.js';
import { NOTHING_BELOW, stackListing, type LayerListing, type PathsBelow } from '../paths-below.js';

/**
 * A layer's listing from the blob in `blobDir` when it is there intact (a layout the base was
 * downloaded into), else from a scratch download that is removed once read.
 */
async function listRemoteLayer(
  client: RegistryClient,
  base: RemoteBaseLayers,
  layer: Descriptor,
  blobDir: string | undefined,
): Promise<LayerListing> {
  const hex = layer.digest.replace(/^sha256:/, '');
  const where = `the base ${base.name}`;
  if (blobDir !== undefined && (await hashFile(join(blobDir, hex))) === hex) {
    return listLayerBlob(join(blobDir, hex), layer, where);
  }
  const scratch = join(gociCacheDir(), 'listings', `fetch-${randomUUID()}`);
  await mkdir(join(gociCacheDir(), 'listings'), { recursive: true });
  try {
    await client.fetchBlobToFile(base.remote.ref.repository, layer.digest, layer.size, scratch);
    return await listLayerBlob(scratch, layer, where);
  } finally {
    await rm(scratch, { force: true });
  }
}

/**
 * What a registry base holds for each of `platforms` (its layers stacked: directories with
 * their modes and owners, symlinks), so goci's layers keep them. Each layer is read once and its
 * listing cached by digest: a push that mounts the base downloads it only the first time.
 */
export async function remoteBasePaths(
  client: RegistryClient,
  base: RemoteBaseLayers,
  platforms: readonly Platform[],
  blobDir: string | undefined,
): Promise<PathsBelow[]> {
  const layersOf = platforms.map((platform) => basePlatform(base, platform).layers);
  const unique = new Map(layersOf.flat().map((layer) => [layer.digest, layer]));
  const listings = new Map<string, LayerListing>();
  await runLimited([...unique.values()], 4, async (layer) => {
    const listing = await cachedLayerListing(layer.digest, () => listRemoteLayer(client, base, layer, blobDir));
    listings.set(layer.digest, listing);
  });
  return layersOf.map((layers) =>
    layers.reduce(
      (below, layer) => stackListing(below, found(listings.get(layer.digest), `the listing of ${layer.digest}`)),
      NOTHING_BELOW,
    ),
  );
}
