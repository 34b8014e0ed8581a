import type { Artifact } from './artifact.js';
import type { Descriptor } from './descriptor.js';
import type { ContentStore } from './content-store.js';
import type { Image } from './image.js';

/** An artifact (an SBOM) that refers to one of the index's platform images. */
export interface Referrer {
  artifact: Artifact;
  /** The platform image's descriptor: the artifact manifest's `subject`. */
  subject: Descriptor;
}

/**
 * A multi-platform image as the sinks take it: the index document (its exact bytes and
 * descriptor, media type included), its platform images, the artifacts that refer to them, and
 * the content store every blob is read from. Referrers travel with the index, so every sink
 * that can carry them does.
 */
export interface Index {
  descriptor: Descriptor;
  bytes: Buffer;
  images: Image[];
  referrers: Referrer[];
  store: ContentStore;
}
