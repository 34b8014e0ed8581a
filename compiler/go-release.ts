/**
 * The release a Go version names (`go1.19.8` → `1.19.8`, `go1.21rc2` → `1.21rc2`, `go1.22.0
 * X:boringcrypto` → `1.22.0`); undefined for a development toolchain (`devel go1.23-abc…`).
 */
export function goRelease(goVersion: string): string | undefined {
  return /^go(\d+(?:\.\d+)*(?:(?:rc|beta)\d+)?)(?=\s|$)/.exec(goVersion)?.[1];
}
