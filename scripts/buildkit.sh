#!/usr/bin/env bash
# Builds BuildKit v0.11.6's buildctl and buildkitd once, for the BuildKit e2e tests
# (test/buildkit-frontend.test.ts), and prints the directory that holds them.
#
#   GOCI_BUILDKIT_SRC=PATH bash scripts/buildkit.sh    PATH: a checkout of moby/buildkit at tag v0.11.6,
#                                                      or a bare git repository holding that tag
#   GOCI_BUILDKIT_BIN=DIR  bash scripts/buildkit.sh    DIR already holds buildctl and buildkitd v0.11.6
#
# v0.11.6 is the newest release that builds with Go 1.19; its repository vendors its
# dependencies, so the build is offline (GOFLAGS=-mod=vendor, GOPROXY=off) and takes ~4.5 min on
# 2 cores. The binaries go to ${GOCI_BUILDKIT_CACHE:-$HOME/.cache/goci-test/buildkit}/v0.11.6/,
# built in a staging directory and renamed into place under a lock (flock), so concurrent callers
# build once and never see a half-written cache. Progress goes to stderr; stdout is only the
# directory. BuildKit's source and binaries are never part of goci's repository.
set -euo pipefail

version=v0.11.6
pkg=github.com/moby/buildkit

fail() {
  echo "buildkit.sh: $*" >&2
  exit 1
}

# has_version DIR: DIR holds executable buildctl and buildkitd, and buildkitd says it is $version.
has_version() {
  [ -x "$1/buildctl" ] && [ -x "$1/buildkitd" ] || return 1
  local line
  line=$("$1/buildkitd" --version 2>/dev/null) || return 1
  # "buildkitd github.com/moby/buildkit v0.11.6 <revision>"
  [ "$(echo "$line" | awk '{print $3}')" = "$version" ]
}

if [ -n "${GOCI_BUILDKIT_BIN:-}" ]; then
  bin=$GOCI_BUILDKIT_BIN
  if [ ! -x "$bin/buildctl" ] || [ ! -x "$bin/buildkitd" ]; then
    fail "GOCI_BUILDKIT_BIN=$bin does not hold executable buildctl and buildkitd"
  fi
  if ! has_version "$bin"; then
    fail "GOCI_BUILDKIT_BIN=$bin holds buildkitd '$("$bin/buildkitd" --version 2>&1 | head -n 1)', not $version"
  fi
  (cd "$bin" && pwd)
  exit 0
fi

src=${GOCI_BUILDKIT_SRC:-}
if [ -z "$src" ]; then
  fail "set GOCI_BUILDKIT_SRC to a checkout or bare git repository of moby/buildkit (tag $version)," \
    "or GOCI_BUILDKIT_BIN to a directory holding buildctl and buildkitd $version"
fi
[ -d "$src" ] || fail "GOCI_BUILDKIT_SRC=$src is not a directory"
src=$(cd "$src" && pwd -P)

cache=${GOCI_BUILDKIT_CACHE:-$HOME/.cache/goci-test/buildkit}
out=$cache/$version
if has_version "$out"; then
  echo "$out"
  exit 0
fi

# The source: a bare repository exports the tag; a checkout must be at the tag, unmodified.
if ! git -C "$src" rev-parse --git-dir >/dev/null 2>&1; then
  fail "GOCI_BUILDKIT_SRC=$src is not a git repository: cannot tell its version (need $version)"
fi
if [ "$(git -C "$src" rev-parse --is-bare-repository)" = true ]; then
  bare=true
  revision=$(git -C "$src" rev-parse -q --verify "refs/tags/$version^{commit}") ||
    fail "GOCI_BUILDKIT_SRC=$src has no tag $version"
else
  bare=false
  top=$(git -C "$src" rev-parse --show-toplevel 2>/dev/null) ||
    fail "GOCI_BUILDKIT_SRC=$src is neither a bare repository nor a checkout's top directory"
  [ "$top" = "$src" ] || fail "GOCI_BUILDKIT_SRC=$src is inside the git checkout $top, not a checkout of moby/buildkit"
  head_tag=$(git -C "$src" describe --tags --exact-match HEAD 2>/dev/null || true)
  if [ "$head_tag" != "$version" ]; then
    at=$(git -C "$src" describe --tags --always HEAD 2>/dev/null || echo 'no commit')
    fail "GOCI_BUILDKIT_SRC=$src is at $at, not $version (git -C $src checkout $version)"
  fi
  if [ -n "$(git -C "$src" status --porcelain --untracked-files=no)" ]; then
    fail "GOCI_BUILDKIT_SRC=$src has local changes: not a clean $version"
  fi
  revision=$(git -C "$src" rev-parse HEAD)
fi

go_version=$(go env GOVERSION 2>/dev/null) || fail "no Go toolchain on PATH (BuildKit $version needs Go 1.19 or newer)"

mkdir -p "$cache"
exec 9>"$cache/$version.lock"
flock 9
# Another caller may have built it while this one waited for the lock.
if has_version "$out"; then
  echo "$out"
  exit 0
fi

stage=$(mktemp -d "$cache/.stage-$version-XXXXXX")
trap 'rm -rf "$stage"' EXIT
if $bare; then
  tree=$stage/src
  mkdir "$tree"
  git -C "$src" archive --format=tar "$version" | tar -x -C "$tree"
else
  tree=$src
fi
[ -f "$tree/vendor/modules.txt" ] || fail "$version from $src has no vendor/ directory"
if [ "$(sed -n 's/^module //p' "$tree/go.mod" 2>/dev/null)" != "$pkg" ]; then
  fail "GOCI_BUILDKIT_SRC=$src is not moby/buildkit (its go.mod names another module)"
fi

echo "buildkit.sh: building buildctl and buildkitd $version ($revision) with $go_version" \
  "into $out (a few minutes)" >&2
ldflags="-X $pkg/version.Version=$version -X $pkg/version.Revision=$revision -X $pkg/version.Package=$pkg"
(
  cd "$tree"
  export CGO_ENABLED=0 GOFLAGS=-mod=vendor GOPROXY=off GOWORK=off
  go build -trimpath -ldflags "$ldflags" -tags 'osusergo netgo static_build' -o "$stage/bin/buildctl" ./cmd/buildctl
  go build -trimpath -ldflags "$ldflags" -tags 'osusergo netgo static_build' -o "$stage/bin/buildkitd" ./cmd/buildkitd
)
if ! has_version "$stage/bin"; then
  fail "the built buildkitd does not say $version: $("$stage/bin/buildkitd" --version 2>&1 | head -n 1)"
fi

# A stale or partial directory from an older run (no lock then, or another version's binaries).
rm -rf "$out"
mv -T "$stage/bin" "$out"
echo "$out"
