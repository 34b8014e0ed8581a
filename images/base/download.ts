import { runLimited } from '../../common/run-limited.js';
import type { RegistryClient } from '../../registry/client.js';
import type { RemoteBaseLayers } from '../assemble.js';
import { copyVerifiedBlob, hashFile } from '../../oci/blob-file.js';
import { blobPath } from '../../oci/layout.js';

/**
 * Brings a remote base's layers into the layout's blob store, each verified against its digest
 * by the client before it is renamed into place; blobs already there (verified) are not fetched again,
 * nor those `reuseFrom` (another layout) holds intact.
 */
export async function downloadBaseLayers(
  client: RegistryClient,
  base: RemoteBaseLayers,
  layoutDir: string,
  concurrency: number,
  reuseFrom?: string,
): Promise<number> {
  const layers = new Map(
    base.remote.platforms.flatMap((platform) => platform.layers).map((layer) => [layer.digest, layer]),
  );
  let fetched = 0;
  await runLimited([...layers.values()], concurrency, async (layer) => {
    const path = blobPath(layoutDir, layer.digest);
    const hex = layer.digest.replace(/^sha256:/, '');
    if ((await hashFile(path)) === hex) return;
    // A copy from the layout this run publishes to, checked against the digest, spares a download.
    if (reuseFrom !== undefined) {
      const reused = await copyVerifiedBlob(blobPath(reuseFrom, layer.digest), path, hex).catch(() => 'missing');
      if (reused === 'copied') return;
    }
    await client.fetchBlobToFile(base.remote.ref.repository, layer.digest, layer.size, path);
    fetched++;
  });
  return fetched;
}
