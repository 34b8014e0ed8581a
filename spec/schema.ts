/** goci.yaml after validation: every default filled in, every path still relative to `baseDir`. */
export interface Spec {
  /** The file it came from, for messages; undefined when built from flags alone. */
  file: string | undefined;
  /** Directory that `builds[].dir` is relative to. */
  baseDir: string;
  version: VersionSettings;
  builds: BuildSpec[];
  /** `image:` as a one-element list, or `images:`; none left when the packages chosen start no image. */
  images: ImageSpec[];
}

/** One extra file or directory copied into the image. */
export interface FileSpec {
  /** Relative to the spec's directory. */
  src: string;
  /** Absolute path in the image. */
  dst: string;
  /** Of files (default 0644, 0755 when executable). */
  mode: number | undefined;
  /** Of the directories of a copied tree (default 0755). */
  dirMode: number | undefined;
  uid: number;
  gid: number;
  path: string;
}

/** A directory the image holds empty, with its owner and mode: where a server writes its state. */
export interface DirectorySpec {
  /** Absolute path in the image. */
  dst: string;
  mode: number;
  /** Numeric ids; undefined: the image's user. */
  owner: { uid: number; gid: number } | undefined;
  /** Where it was written (`image.directories[0]`), for messages. */
  path: string;
}

/** How the binaries become an image; flags override each field. */
export interface ImageSpec {
  base: string;
  /** The repository name used for tags in layouts, tarballs and the daemon. */
  repository: string | undefined;
  /** Build ids whose binaries go into the image; default all builds. */
  binaries: string[] | undefined;
  /** The binary (build id or binary name) that is the entrypoint; default the first. */
  entrypoint: string | undefined;
  binaryDir: string;
  args: string[];
  env: Record<string, string>;
  workdir: string | undefined;
  user: string | undefined;
  ports: string[];
  stopSignal: string | undefined;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  files: FileSpec[];
  directories: DirectorySpec[];
  /** Volumes (the config's Volumes): each also an empty directory owned by the image's user unless given. */
  volumes: string[];
  /** Tags for this image instead of the version's; flags (--tag, --tags) still win. */
  tags: string[] | undefined;
  /** Where it was written (`image`, `images[1]`), for messages. */
  path: string;
}

export const DEFAULT_BASE = 'static';
export const DEFAULT_BINARY_DIR = '/usr/local/bin';

/** Which Go variables receive the version stamp through `-X`. */
/**
 * How a version derived from git is written (goci.yaml's version.format):
 * `semver` (default) `1.6.20`, after it `1.6.21-dev.1+g218db27`;
 * `tag` the same, keeping the tag's `v`: `v1.6.20`, `v1.6.21-dev.1+g218db27`;
 * `describe` as `git describe --tags --always --dirty` writes it: `v1.6.20`, `v1.6.20-1-g218db27`,
 * `v1.6.20-dirty`, and the short commit alone without a tag — the format containerd's and many
 * Makefiles stamp.
 */
export type VersionFormat = 'semver' | 'tag' | 'describe';

export const VERSION_FORMATS: readonly VersionFormat[] = ['semver', 'tag', 'describe'];

export interface VersionSettings {
  variable: string;
  commitVariable: string | undefined;
  dateVariable: string | undefined;
  /** How a version from git is written (default semver). */
  format: VersionFormat;
}

export type BuildVcs = 'true' | 'false' | 'auto';

export interface BuildSpec {
  id: string;
  /** Where `go build` runs, relative to the spec's directory. */
  dir: string;
  /** The main package, as `go build` takes it (relative to `dir`). */
  main: string;
  binary: string;
  flags: string[];
  ldflags: string[];
  tags: string[];
  env: Record<string, string>;
  /** Platform texts as written; checked against the toolchain when the plan is made. */
  platforms: string[] | undefined;
  buildvcs: BuildVcs | undefined;
  /** Where each field came from, so later checks can name `builds[1].platforms[0]`. */
  path: string;
}

export const DEFAULT_VERSION_VARIABLE = 'main.version';
