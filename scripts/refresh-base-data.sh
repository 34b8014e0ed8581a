#!/usr/bin/env bash
# Regenerates the data of goci's built-in `static` base image (images/base/data) from the
# Debian packages installed on this machine, then prints the package versions and the sha256
# of each file, in the form images/base/data/SOURCES.md lists them.
#
#   bash scripts/refresh-base-data.sh
#
# After a refresh: update the versions and sha256 lines in SOURCES.md, run the tests, and
# record the new layer digest that test/static-base.test.ts names when it fails.
#
# - ca-certificates.crt: the bundle Debian's update-ca-certificates builds with the package's
#   default configuration (every certificate the package ships, in C sort order, each ending in
#   a newline). It is rebuilt from the package's own files rather than copied from
#   /etc/ssl/certs/ca-certificates.crt, because that file also holds whatever local CAs this
#   machine added under /usr/local/share/ca-certificates (proxies, sandboxes), and those must
#   never end up in every image goci builds.
# - zoneinfo.tar.gz: /usr/share/zoneinfo as the tzdata package installed it, as a tar with
#   sorted names, mtime 0 and numeric owner 0:0, gzip'd without a name or timestamp.
# - ethertypes, protocols, services: netbase's files (Go's net package reads /etc/services).
# - dpkg-status: the three packages' status stanzas, which the base splits into status.d files.
set -euo pipefail
export LC_ALL=C

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
data="$root/images/base/data"
mkdir -p "$data"

for package in ca-certificates netbase tzdata; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$package" 2>/dev/null || true)
  if [ "$status" != installed ]; then
    echo "refresh-base-data: the Debian package $package is not installed (apt-get install $package)" >&2
    exit 1
  fi
done

# Refuse files that differ from what the packages shipped (dpkg prints one line per changed file).
changed=$(dpkg --verify ca-certificates netbase tzdata 2>&1 || true)
if [ -n "$changed" ]; then
  echo "refresh-base-data: installed files differ from the packages:" >&2
  echo "$changed" >&2
  exit 1
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The certificates the package ships, as update-ca-certificates concatenates them: sed adds a
# final newline to a certificate that lacks one.
dpkg-query -L ca-certificates | grep -E '^/usr/share/ca-certificates/.+\.crt$' | sort > "$tmp/certs.list"
if [ ! -s "$tmp/certs.list" ]; then
  echo "refresh-base-data: the ca-certificates package lists no certificates" >&2
  exit 1
fi
: > "$tmp/ca-certificates.crt"
while IFS= read -r cert; do
  sed -e '$a\' "$cert" >> "$tmp/ca-certificates.crt"
done < "$tmp/certs.list"

tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C /usr/share -cf - zoneinfo | gzip -9n > "$tmp/zoneinfo.tar.gz"

# netbase's files as the package installed them (dpkg --verify above checked they are unchanged).
for file in ethertypes protocols services; do cp "/etc/$file" "$tmp/$file"; done

# Each package's dpkg status stanza, as distroless records them in /var/lib/dpkg/status.d/ for
# scanners: the fields that name the package, not the install's own (sizes, conffiles).
dpkg-query -W -f='Package: ${Package}\nStatus: install ok installed\nPriority: ${Priority}\nSection: ${Section}\nMaintainer: ${Maintainer}\nArchitecture: ${Architecture}\nVersion: ${Version}\n\n' \
  ca-certificates netbase tzdata > "$tmp/dpkg-status"

for file in ca-certificates.crt zoneinfo.tar.gz ethertypes protocols services dpkg-status; do
  mv "$tmp/$file" "$data/$file"
  chmod 0644 "$data/$file"
done

echo "ca-certificates $(dpkg-query -W -f='${Version}' ca-certificates): $(grep -c 'BEGIN CERTIFICATE' "$data/ca-certificates.crt") certificates"
echo "netbase $(dpkg-query -W -f='${Version}' netbase)"
echo "tzdata $(dpkg-query -W -f='${Version}' tzdata)"
(cd "$data" && sha256sum ca-certificates.crt zoneinfo.tar.gz ethertypes protocols services dpkg-status)
