/** goci.yaml after validation: every default filled in, every path still relative to `baseDir`. */
export interface Spec {
  /** The file it came from, for messages; undefined when built from flags alone. */
  file: string | undefined;
  /** Directory that `builds[].dir` is relative to. */
  baseDir: string;
  version: VersionSettings;
  builds: BuildSpec[];
}

/** Which Go variables receive the version stamp through `-X`. */
export interface VersionSettings {
  variable: string;
  commitVariable: string | undefined;
  dateVariable: string | undefined;
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
