import type { AttachedBy } from './registry-referrers.js';
import type { PushResult } from '../registry/push.js';
import type { Descriptor } from '../oci/descriptor.js';
import type { Index } from '../oci/index.js';
import type { ImageManifest } from '../oci/manifest.js';

/** What a push did: the digest reference CI deploys, the tags, and how each blob got there. */
export interface Pushed {
  reference: string;
  tags: string[];
  blobs: PushResult['blobs'];
  /** How each platform's SBOM was attached. */
  sboms: AttachedBy[];
}

/** Where an image went, as `goci build --json` reports it. */
export interface SinkOutcome {
  tarball?: string;
  loaded?: { imageId: string; tags: string[] };
  ociLayout?: string;
  /** The names (`org.opencontainers.image.ref.name`) the layout holds the image under. */
  ociLayoutRefs?: string[];
  pushed?: Pushed;
}

/** One destination of a built image. */
export interface Sink {
  /** Writes `index` (its images, blobs and referrers) under `tags`, the first the exact one. */
  write(index: Index, tags: string[]): Promise<SinkOutcome>;
  /**
   * Whether this sink can do without a layer held by `registry` being local: only a push to
   * that same registry (it mounts the layer). Without it, a registry base's layers are downloaded.
   */
  mountsFrom?(registry: string): boolean;
  /**
   * A blob of the index to come, complete at `file` already: a sink that sends blobs away may
   * start now (a push uploads a platform's layer while other targets still compile). write()
   * is still given every blob, this one included.
   */
  early?(blob: Pick<Descriptor, 'digest' | 'size'>, file: string): void;
  /**
   * A platform image of the index to come, its layers complete in `layerFiles` (by digest), its
   * config and manifest in memory: a push may send all of it now, the manifest once its blobs
   * are there. write() is still given the whole index.
   */
  earlyImage?(image: ImageManifest, layerFiles: ReadonlyMap<string, string>): void;
}
