/**
 * What goci learns about a compiled program by reading it, never by running it.
 * Everything in a BinaryReport is plain data, so it can be logged, cached or compared as is.
 */

export type BinaryFormat = 'elf' | 'pe' | 'macho';

export interface Module {
  path: string;
  version: string;
  /** Absent when Go recorded no checksum (the main module, directory replacements). */
  sum?: string;
  replace?: Module;
}

export interface BuildSetting {
  key: string;
  value: string;
}

/** The same content as Go's runtime/debug.BuildInfo. */
export interface GoBuildInfo {
  goVersion: string;
  path: string;
  main?: Module;
  deps: Module[];
  /** In the order the go command wrote them. */
  settings: BuildSetting[];
}

export interface BinaryReport {
  format: BinaryFormat;
  /** GOOS spelling. */
  os: string;
  /** GOARCH spelling. */
  arch: string;
  /** Platform variant as containerd normalises it: 'v7' for GOARM=7, 'v3' for GOAMD64=v3. */
  variant?: string;
  /** False when the program needs libraries (or an ELF interpreter) from the image it runs in. */
  static: boolean;
  interpreter?: string;
  needed: string[];
  buildInfo?: GoBuildInfo;
}

// ---------------------------------------------------------------------------------------------
// Plumbing shared by the format readers. Not part of the report.
// ---------------------------------------------------------------------------------------------
