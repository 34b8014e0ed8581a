import type { BuiltImage } from './built-image.js';
import type { ProgressEvent } from './progress.js';

/** What `build` makes and where it writes it; every field is optional, the defaults are `goci build`'s. */
export interface BuildOptions {
  /** Directories of Go main packages (or of a goci.yaml); default: the current directory. */
  dirs?: string[];
  /** goci.yaml to use instead of `<dir>/goci.yaml`. */
  config?: string;
  /** Widens the build context goci.yaml's paths may reach (default: goci.yaml's directory). */
  context?: string;
  /** Target platforms, `os/arch[/variant]`; "all" = Go's first-class ports. */
  platforms?: string[];
  /** The version to stamp (default: derived from git tags). */
  version?: string;
  buildvcs?: 'true' | 'false' | 'auto';
  /** Output directory (default `dist`): binaries in `<dist>/bin`, the layout in `<dist>/oci`. */
  dist?: string;
  /** Targets built at once (default: the number of cores, at least 4). */
  jobs?: number;
  /** Reuse binaries from goci's cache when every input is unchanged (default true). */
  cache?: boolean;
  /** The environment go build and templates see (default: process.env). Plain data: no Node types needed. */
  env?: Record<string, string | undefined>;
  /** Manifest media types (default oci). */
  format?: 'oci' | 'docker';
  /** static (default), static:root, scratch, or a registry image reference. */
  base?: string;
  repository?: string;
  entrypoint?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  /** Environment variables of the image's config. */
  imageEnv?: Record<string, string>;
  user?: string;
  workdir?: string;
  ports?: string[];
  /** Default arguments (Cmd) after the entrypoint. */
  args?: string[];
  /** Tags to record (default: the version; when pushing, its release set 1.2.3, 1.2, 1, latest). */
  tags?: string[];
  /** SBOM attached to each platform image (default spdx). */
  sbom?: 'spdx' | 'cyclonedx' | 'none';
  /** OCI layout to write (default `<dist>/oci`, unless only pushing). */
  ociLayout?: string;
  /** Repository to push the multi-arch image to, e.g. ghcr.io/acme/api. */
  push?: string;
  /** Also write one tar that docker load, skopeo and umoci read. */
  tarball?: string;
  /** Load the image into the local Docker daemon. */
  load?: boolean;
  /** The platform `load` and `tarball`'s docker manifest use (default: this machine's). */
  loadPlatform?: string;
  /** Registries that may be reached over plain HTTP (loopback always may). */
  insecureRegistries?: string[];
  /** Told of each step as it happens: compiles, images, sinks, registry waits. */
  onProgress?: (event: ProgressEvent) => void;
}

export interface BuildResult {
  images: BuiltImage[];
}
