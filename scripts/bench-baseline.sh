#!/usr/bin/env bash
# Builds goci at another revision into a worktree beside this checkout's caches, for benches that
# compare two revisions in one run, and prints its directory:
#
#   BENCH_BASELINE=$(bash scripts/bench-baseline.sh main) npm run bench:image
#
# The worktree lives in ${GOCI_BENCH_BASELINE_DIR:-$HOME/.cache/goci-bench}/<commit>; it reuses this
# checkout's node_modules (same lockfile assumed; a differing lockfile is refused).
set -euo pipefail
rev=${1:?usage: bench-baseline.sh REV}
root=$(git rev-parse --show-toplevel)
commit=$(git -C "$root" rev-parse --verify "$rev^{commit}")
dir=${GOCI_BENCH_BASELINE_DIR:-$HOME/.cache/goci-bench}/$commit
if [ ! -f "$dir/lib/goci.cjs" ] && [ ! -f "$dir/lib/goci.mjs" ]; then
  if ! git -C "$root" diff --quiet "$commit" -- package-lock.json; then
    echo "bench-baseline.sh: $rev has another package-lock.json; build it in its own clone with npm ci" >&2
    exit 1
  fi
  rm -rf "$dir"
  git -C "$root" worktree add --detach "$dir" "$commit" >&2
  ln -s "$root/node_modules" "$dir/node_modules"
  (cd "$dir" && npm run --silent build >&2)
fi
echo "$dir"
