#!/usr/bin/env bash
# Benchmark: the cost of the pre-push hook's check for one tag, on a repository of
# FILES files, against C git reading the same CI file (`git cat-file`) in the same run.
#
#   contrib/bench-hook.sh [FILES] [RUNS]      e.g. contrib/bench-hook.sh 5000 50
set -euo pipefail

files=${1:-5000}
runs=${2:-50}
top=$(cd "$(dirname "$0")/.." && pwd)
cargo build --profile profiling --quiet --manifest-path "$top/Cargo.toml"
bin="$top/target/profiling/git-patchew"

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
printf 'stages: [build]\nbuild:\n  stage: build\n  script: [make]\n' > "$repo/.gitlab-ci.yml"
git -C "$repo" add -A && git -C "$repo" commit -qm base
echo 'int changed;' > "$repo/d000/f00000.c"
git -C "$repo" commit -qam "change one file" --date=@1700000000
git -C "$repo" format-patch -q --stdout --thread -1 > "$work/p.mbox"
git -C "$repo" reset -q --hard HEAD~1
git -C "$repo" config patchew.ciInclude https://ci.example.org/patchew-ci.yml
git -C "$repo" remote add ci-hub "$work/hub.git"
tag=$(cd "$repo" && "$bin" apply --mbox "$work/p.mbox" --json | sed -n 's/^  "tag": "\(.*\)",$/\1/p')
oid=$(git -C "$repo" rev-parse "refs/tags/$tag")
line="refs/tags/$tag $oid refs/tags/$tag 0000000000000000000000000000000000000000"

time_runs() { # command... ; prints mean milliseconds over $runs runs
  local t0 t1
  t0=$(date +%s%N)
  for _ in $(seq "$runs"); do "$@" >/dev/null; done
  t1=$(date +%s%N)
  awk -v a="$t0" -v b="$t1" -v n="$runs" 'BEGIN { printf "%.2f", (b - a) / n / 1e6 }'
}
hook() { printf '%s\n' "$line" | (cd "$repo" && "$bin" hook pre-push ci-hub "$work/hub.git"); }
catfile() { git -C "$repo" cat-file -p "$oid:.gitlab-ci.yml"; }

hook >/dev/null || { echo "bench-hook: the hook refused the good tag" >&2; exit 1; }
hook_ms=$(time_runs hook)
git_ms=$(time_runs catfile)
printf 'files=%s runs=%s\n' "$files" "$runs"
printf 'git patchew hook pre-push (1 tag): %8s ms\n' "$hook_ms"
printf 'git cat-file of the CI file:       %8s ms\n' "$git_ms"
printf 'ratio hook / cat-file:             %8s x   (target: hook < 50 ms)\n' \
  "$(awk -v a="$hook_ms" -v b="$git_ms" 'BEGIN { printf "%.1f", a / b }')"
