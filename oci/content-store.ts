import type { Readable } from 'node:stream';
import type { Descriptor } from './descriptor.js';

/**
 * Where an image's blobs are kept: a blob is opened by its descriptor and its bytes are checked
 * against the digest and size as they are read, so no sink ever passes on a damaged blob.
 * Blobs live in an OCI layout's blob store (`<dir>/blobs/sha256/<hex>`): a run's staged layout,
 * or a layout on disk that `goci push` reads.
 */
export interface ContentStore {
  /** The layout directory holding `blobs/sha256`, for writers that stream files (tarball, uploads). */
  readonly dir: string;
  /** The blob's bytes; the stream fails with a GociError unless they match `descriptor`. */
  open(descriptor: Pick<Descriptor, 'digest' | 'size'>): Readable;
  /** The file that holds the blob. */
  file(digest: string): string;
}
