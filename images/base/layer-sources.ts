import type { LayerSource } from '../../oci/layer.js';
import type { RemoteBaseLayers } from '../assemble.js';

/** A registry base's layers, by digest, with the repository that holds them (a push there mounts them). */
export function remoteLayerSources(base: RemoteBaseLayers | undefined): Map<string, LayerSource> {
  if (!base) return new Map();
  const source = { registry: base.remote.ref.registry, repository: base.remote.ref.repository };
  return new Map(base.remote.platforms.flatMap((platform) => platform.layers.map((layer) => [layer.digest, source])));
}
