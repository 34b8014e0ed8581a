import type { SignedManifest } from './sign.js';
import type { Pushed } from '../sinks/sink.js';

/** What a build reports per image, as `goci build --json` prints it. */
export interface BuiltImage {
  /** Where it went: the repository pushed to, else its name. */
  repository: string;
  /** Its name in goci.yaml (image.repository, else the entrypoint binary): what a layout, Docker and the SBOM call it. */
  name: string;
  /** The directory of the entrypoint's main package; absent for another module's package. */
  mainPackage?: string | undefined;
  tags: string[];
  index: { digest: string; size: number };
  platforms: { platform: string; digest: string; size: number }[];
  ociLayout?: string;
  /** The names the layout holds it under: its tags, or `<name>:<tag>` when a run made several images. */
  ociLayoutRefs?: string[];
  pushed?: Pushed;
  /** What --sign signed: the index and each platform image, with the tags their signatures are under. */
  signed?: SignedManifest[];
  tarball?: string;
  loaded?: { imageId: string; tags: string[] };
}
