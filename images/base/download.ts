import { stat } from 'node:fs/promises';
import { runLimited } from '../../compiler/schedule.js';
import type { RegistryClient } from '../../registry/client.js';
import type { RemoteBaseLayers } from '../assemble.js';
import { blobPath } from '../oci-layout.js';

/**
 * Brings a remote base's layers into the layout's blob store, each verified against its digest
 * by the client before it is renamed into place; blobs already there are not fetched again.
 */
export async function downloadBaseLayers(client: RegistryClient, base: RemoteBaseLayers, layoutDir: string, concurrency: number): Promise<number> {
  const layers = new Map(base.remote.platforms.flatMap((platform) => platform.layers).map((layer) => [layer.digest, layer]));
  let fetched = 0;
  await runLimited([...layers.values()], concurrency, async (layer) => {
    const path = blobPath(layoutDir, layer.digest);
    if (await stat(path).then((info) => info.size === layer.size, () => false)) return;
    await client.fetchBlobToFile(base.remote.ref.repository, layer.digest, layer.size, path);
    fetched++;
  });
  return fetched;
}
