#!/usr/bin/env bash
# Installs what goci's tests need when it is missing: the Go toolchain, qemu for foreign
# architectures (registered with binfmt_misc), git, unzip. On Debian/Ubuntu as root it
# installs with apt-get; elsewhere it says exactly what is missing and stops.
set -euo pipefail

packages=()
need() { # need COMMAND PACKAGE
  command -v "$1" >/dev/null 2>&1 || packages+=("$2")
}
need go golang-go
need git git
need unzip unzip
need qemu-aarch64-static qemu-user-static
need update-binfmts binfmt-support
need oci-image-tool oci-image-tool
need skopeo skopeo
need umoci umoci
need dockerd docker.io
need docker-registry docker-registry
need openssl openssl
need perl perl
need /usr/bin/time time
need mkfifo coreutils
need /usr/bin/docker docker.io
need docker-compose docker-compose
need tmux tmux
# PyNaCl (Debian's python3, not another on PATH): an implementation of secretbox that is not goci's, to read and write cosign's encrypted keys in tests.
/usr/bin/python3 -c 'import nacl.secret' >/dev/null 2>&1 || packages+=(python3-nacl)

if [ ${#packages[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "prerequisites: installing ${packages[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq "${packages[@]}" >&2
  else
    echo "prerequisites: missing ${packages[*]}; install them (Debian/Ubuntu: sudo apt-get install ${packages[*]}) and run again" >&2
    exit 1
  fi
fi

# Foreign-architecture binaries run through qemu only when binfmt_misc knows it.
if [ ! -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ] || [ ! -e /proc/sys/fs/binfmt_misc/qemu-arm ]; then
  if [ "$(id -u)" = 0 ]; then
    [ -e /proc/sys/fs/binfmt_misc/register ] || mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
    update-binfmts --enable qemu-aarch64 >/dev/null 2>&1 || update-binfmts --enable >/dev/null 2>&1 || true
    update-binfmts --enable qemu-arm >/dev/null 2>&1 || true
  fi
  if [ ! -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ]; then
    echo "prerequisites: qemu is installed but not registered with binfmt_misc; as root run: update-binfmts --enable" >&2
    exit 1
  fi
fi

# The TypeScript compiler and the runtime dependencies, for a fresh clone.
[ -x node_modules/.bin/tsc ] || npm ci --no-audit --no-fund >&2
