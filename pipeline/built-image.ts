import type { Pushed } from '../sinks/sink.js';

/** What a build reports per image, as `goci build --json` prints it. */
export interface BuiltImage {
  repository: string;
  tags: string[];
  index: { digest: string; size: number };
  platforms: { platform: string; digest: string; size: number }[];
  ociLayout?: string;
  pushed?: Pushed;
  tarball?: string;
  loaded?: { imageId: string; tags: string[] };
}
