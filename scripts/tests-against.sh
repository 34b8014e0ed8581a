#!/usr/bin/env bash
# Runs today's tests against an older commit's code: proof that a fix's tests fail without it.
#
#   bash scripts/tests-against.sh REV [TEST_FILE...]     (default: test/hardening-*.test.ts)
#
# Checks REV out into a scratch worktree, replaces its test/ with this checkout's (fixtures
# included), compiles without type checking (the tests may name options REV lacks), bundles
# REV's CLI, and runs the chosen test files there. Prints node's own report, then one line per
# test: "fails on REV" is what a test of a fixed break should say. Exits 0 when every test
# failed on REV, 1 when any passed there. The scratch worktree is removed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
rev=${1:?usage: scripts/tests-against.sh REV [TEST_FILE...]}
shift
if [ $# -eq 0 ]; then set -- test/hardening-*.test.ts; fi

here=$(pwd)
scratch=$(mktemp -d "${TMPDIR:-/tmp}/goci-tests-against-XXXXXX")
cleanup() {
  git -C "$here" worktree remove --force "$scratch/tree" >/dev/null 2>&1 || true
  rm -rf "$scratch"
}
trap cleanup EXIT

git worktree add --detach -q "$scratch/tree" "$rev"
cd "$scratch/tree"
ln -s "$here/node_modules" node_modules
rm -rf test
cp -R "$here/test" test
npx tsc -p tsconfig.json --noCheck >/dev/null || true
node scripts/bundle.mjs
chmod +x lib/goci.cjs

compiled=()
for file in "$@"; do
  js="lib/${file%.ts}.js"
  if [ ! -f "$js" ]; then echo "tests-against: $file did not compile against $rev" >&2; exit 2; fi
  compiled+=("$js")
done

report="$scratch/report.tap"
set +e
node --test --test-reporter=tap --test-concurrency=1 --test-timeout="${TESTS_AGAINST_TIMEOUT_MS:-180000}" \
  --test-force-exit "${compiled[@]}" >"$report" 2>&1
set -e
cat "$report"

# One line per leaf test (indented "ok"/"not ok" lines of TAP whose test has no subtests).
echo
echo "Against $(git rev-parse --short "$rev"):"
awk -v rev="$(git rev-parse --short "$rev")" '
  /^ *(not )?ok [0-9]+ - / {
    line = $0; sub(/^ */, "", line)
    status = (line ~ /^not ok/) ? "fails on " rev : "PASSES on " rev
    name = line; sub(/^(not )?ok [0-9]+ - /, "", name)
    pending[++n] = status "  " name
    depth[n] = match($0, /[^ ]/)
  }
  END {
    for (i = 1; i <= n; i++) {
      # A suite line closes its subtests, which are deeper and come just before it.
      if (i > 1 && depth[i - 1] > depth[i]) continue
      print pending[i]
    }
  }' "$report" | tee "$scratch/summary.txt"
passed=$(grep -c '^PASSES' "$scratch/summary.txt" || true)
total=$(wc -l <"$scratch/summary.txt")
cancelled=$(sed -n 's/^# cancelled //p' "$report" | tail -n 1)
if [ "${cancelled:-0}" -gt 0 ]; then
  echo "cancelled on $rev: ${cancelled} test(s) still running when their file hit the time limit (they hang there)"
fi
echo "$((total - passed)) of $total finished tests fail on $rev"
[ "$passed" -eq 0 ]
