/**
 * The Dockerfiles goci is compared with: what Go teams write today. Same compiler (the Go builder
 * image made from this machine's toolchain), same flags as goci's, same scratch result.
 */

/** -trimpath, stripped, no build id, the version stamped: goci's own flags, written out. */
export function goBuildLine(version: string): string {
  return `go build -trimpath -buildvcs=false -ldflags "-s -w -buildid= -X main.version=${version}" -o /out/app .`;
}

/**
 * The best-practice multi-stage Dockerfile: the build stage runs on the build platform and
 * cross-compiles for the target (GOOS/GOARCH/GOARM from BuildKit's TARGET* args), with Go's build
 * cache in a cache mount.
 */
export function crossCompilingDockerfile(builder: string, version: string): string {
  return `FROM --platform=$BUILDPLATFORM ${builder} AS build
ARG TARGETOS
ARG TARGETARCH
ARG TARGETVARIANT
WORKDIR /src
COPY . .
RUN --mount=type=cache,target=/root/.cache/go-build \\
    GOOS=$TARGETOS GOARCH=$TARGETARCH GOARM=\${TARGETVARIANT#v} CGO_ENABLED=0 \\
    ${goBuildLine(version)}
FROM scratch
COPY --from=build /out/app /app
ENTRYPOINT ["/app"]
`;
}

/**
 * The naive one many projects have: no --platform=$BUILDPLATFORM, so the build stage is the
 * target's own architecture and the compiler runs under QEMU. The builder image is chosen per
 * target (goci-go-builder:emulated-arm64, …) because the local image store holds one per tag.
 */
export function emulatedDockerfile(builderRepository: string, version: string): string {
  // TARGETARCH/TARGETVARIANT are BuildKit's automatic global args: declaring them here without a
  // value would shadow them with empty strings.
  return `FROM ${builderRepository}:emulated-\${TARGETARCH}\${TARGETVARIANT} AS build
WORKDIR /src
COPY . .
RUN --mount=type=cache,target=/root/.cache/go-build \\
    CGO_ENABLED=0 ${goBuildLine(version)}
FROM scratch
COPY --from=build /out/app /app
ENTRYPOINT ["/app"]
`;
}
