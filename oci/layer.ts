import type { Readable } from 'node:stream';
import type { Descriptor } from './descriptor.js';

/** Another repository of a registry that already holds a layer (a registry base's), so a push can mount it. */
export interface LayerSource {
  registry: string;
  repository: string;
}

/** One layer of an image: how manifests name it, its uncompressed digest, and its bytes. */
export interface Layer {
  descriptor: Descriptor;
  /** sha256 of the uncompressed tar: the config's rootfs.diff_ids entry. */
  diffId: string;
  /** Set for a registry base's layers: where they can be mounted from instead of uploaded. */
  mountFrom?: LayerSource;
  /** The compressed blob, verified as it is read. */
  open(): Readable;
}
