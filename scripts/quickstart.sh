#!/usr/bin/env bash
# The README's quick start: from a fresh clone, install goci, build it, build the hello
# example as a two-platform image (an OCI layout in dist/oci), then run the native binary.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v go >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "quickstart: installing the Go toolchain (golang-go)" >&2
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq golang-go >&2
  else
    echo "quickstart: Go is not installed; install it (https://go.dev/doc/install, or apt-get install golang-go) and run again" >&2
    exit 1
  fi
fi

[ -x node_modules/.bin/tsc ] || npm ci --no-audit --no-fund
npm run --silent build

set -x
node lib/goci.cjs build examples/hello --platform linux/amd64,linux/arm64 --version 1.2.3
"./dist/bin/hello-1.2.3-linux-$(go env GOARCH)"
