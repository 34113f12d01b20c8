#!/usr/bin/env bash
# Benchmark: `git patchew ci-check` on a tree of FILES files whose CI
# configuration spreads over 30 included files (a `*` include, a `**` include that
# makes it list the whole tree, extends chains across files, QEMU-style rules),
# against C git listing the same tree (`git ls-tree -r`) in the same run.
#
#   contrib/bench-ci-check.sh [FILES] [RUNS]      e.g. contrib/bench-ci-check.sh 10000 20
#
# PATCHEW_BIN=path/to/git-patchew skips the release build (a debug binary gives an
# upper bound).
set -euo pipefail

files=${1:-10000}
runs=${2:-20}
top=$(cd "$(dirname "$0")/.." && pwd)
if [ -z "${PATCHEW_BIN:-}" ]; then
  cargo build --release --quiet --manifest-path "$top/Cargo.toml"
  PATCHEW_BIN="$top/target/release/git-patchew"
fi
bin=$PATCHEW_BIN

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export GIT_CONFIG_NOSYSTEM=1 HOME="$work"
export GIT_AUTHOR_NAME=Bench GIT_AUTHOR_EMAIL=bench@example.com
export GIT_COMMITTER_NAME=Bench GIT_COMMITTER_EMAIL=bench@example.com

repo="$work/repo"
git init -q -b main "$repo"
awk -v files="$files" -v dir="$repo" 'BEGIN {
  for (f = 0; f < files; f++) {
    if (f < 100) system("mkdir -p " dir sprintf("/d%03d", f))
    printf "int f%05d;\n", f > sprintf("%s/d%03d/f%05d.c", dir, f % 100, f)
  }
}'
mkdir -p "$repo/ci/jobs" "$repo/ci/extra/deep"
cat > "$repo/.gitlab-ci.yml" <<'YML'
include:
  - local: /ci/base.yml
  - local: '/ci/jobs/*.yml'
  - local: 'ci/extra/**/*.yml'
YML
cat > "$repo/ci/base.yml" <<'YML'
stages: [build, test]
variables:
  UPSTREAM: upstream-project
.base:
  rules:
    - if: '$CI_PROJECT_NAMESPACE == $UPSTREAM && $CI_COMMIT_TAG'
      when: never
    - if: '$GATE != "1" && $GATE != "2" && $CI_PROJECT_NAMESPACE != $UPSTREAM'
      when: never
    - if: '$OPTIONAL && $GATE != "2"'
      when: manual
      allow_failure: true
    - if: '$GATE != "2"'
      when: manual
    - when: on_success
.build:
  extends: .base
  stage: build
  script: [make]
YML
for i in $(seq -w 1 27); do
  printf '.tpl-%s:\n  extends: .build\n' "$i" > "$repo/ci/jobs/j$i.yml"
  for j in 1 2 3 4; do
    printf 'job-%s-%s:\n  extends: .tpl-%s\n  variables:\n    N: "%s"\n' "$i" "$j" "$i" "$j" >> "$repo/ci/jobs/j$i.yml"
  done
done
printf 'extra-a:\n  extends: .build\n  stage: test\n' > "$repo/ci/extra/a.yml"
printf 'extra-b:\n  extends: .build\n  stage: test\n  variables:\n    OPTIONAL: "1"\n' > "$repo/ci/extra/deep/b.yml"
git -C "$repo" add -A && git -C "$repo" commit -qm base
git -C "$repo" config patchew.ciProject patchew/project
git -C "$repo" config patchew.ciVariables GATE=2

included=$(git -C "$repo" ls-files ci | wc -l)
[ "$included" -eq 30 ] || { echo "bench-ci-check: $included included files, not 30" >&2; exit 1; }

time_runs() { # command... ; prints mean milliseconds over $runs runs
  local t0 t1
  t0=$(date +%s%N)
  for _ in $(seq "$runs"); do "$@" >/dev/null; done
  t1=$(date +%s%N)
  awk -v a="$t0" -v b="$t1" -v n="$runs" 'BEGIN { printf "%.2f", (b - a) / n / 1e6 }'
}
check() { (cd "$repo" && "$bin" ci-check --json 2>/dev/null); }
lstree() { git -C "$repo" ls-tree -r HEAD; }

verdict=$(check | sed -n 's/^  "verdict": "\(.*\)",$/\1/p')
[ "$verdict" = runs ] || { echo "bench-ci-check: verdict $verdict, expected runs" >&2; exit 1; }
check_ms=$(time_runs check)
git_ms=$(time_runs lstree)
printf 'files=%s included=%s runs=%s jobs=%s\n' "$files" "$included" "$runs" \
  "$(check | grep -c '"name"')"
printf 'git patchew ci-check:      %8s ms\n' "$check_ms"
printf 'git ls-tree -r HEAD:       %8s ms\n' "$git_ms"
printf 'ratio ci-check / ls-tree:  %8s x   (target: ci-check well under 1000 ms)\n' \
  "$(awk -v a="$check_ms" -v b="$git_ms" 'BEGIN { printf "%.1f", a / b }')"
