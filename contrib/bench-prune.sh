#!/usr/bin/env bash
# Benchmark: what a ci-hub full of old series tags costs every push, and what
# `git patchew prune` gives back. Builds a mirror and a bare hub with EXPIRED series
# tags a year old and RECENT ones a day old, and a small mirror and hub with the
# RECENT tags only; times one push of a new tag to each (median of RUNS), runs
# `git patchew prune` (timed), and times the push again.
#
#   contrib/bench-prune.sh [EXPIRED] [RECENT] [RUNS]     default 20000 100 5
#
# Pruning 20,000 tags from a hub of 20,000 takes minutes: git's client matches each
# deleted ref against every ref the hub advertises (see README, "Tag expiry").
set -euo pipefail

expired=${1:-20000}
recent=${2:-100}
runs=${3:-5}
top=$(cd "$(dirname "$0")/.." && pwd)
cargo build --profile profiling --quiet --manifest-path "$top/Cargo.toml"
bin="${CARGO_TARGET_DIR:-$top/target}/profiling/git-patchew"

work=$(mktemp -d)
server_pid=
cleanup() { [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
export GIT_CONFIG_NOSYSTEM=1 HOME="$work"
export GIT_AUTHOR_NAME=Bench GIT_AUTHOR_EMAIL=bench@example.com
export GIT_COMMITTER_NAME=Bench GIT_COMMITTER_EMAIL=bench@example.com

now=$(date +%s)
# fast-import: one annotated tag per line of input, tagged at the given date.
tags() { # first count age_days name_stem
  local commit=$1 count=$2 age=$3 stem=$4
  awk -v c="$commit" -v n="$count" -v at=$((now - age * 86400)) -v stem="$stem" 'BEGIN {
    for (i = 0; i < n; i++) {
      printf "tag patchew/%s-%06d@bench.example.org\nfrom %s\n", stem, i, c
      printf "tagger Bench <bench@example.com> %d +0000\ndata 7\nseries\n\n", at
    }
  }'
}

mirror="$work/mirror"
git init -q -b main "$mirror"
echo 'int x;' > "$mirror/x.c"
git -C "$mirror" add x.c && git -C "$mirror" commit -qm base
head=$(git -C "$mirror" rev-parse HEAD)
{ tags "$head" "$expired" 365 old; tags "$head" "$recent" 1 new; } |
  git -C "$mirror" fast-import --quiet
git init -q --bare "$work/hub.git"
git init -q --bare "$work/small.git"
git -C "$mirror" push -q "$work/hub.git" --tags main
git -C "$mirror" push -q "$work/small.git" 'refs/tags/patchew/new-*:refs/tags/patchew/new-*' main
git -C "$mirror" remote add ci-hub "$work/hub.git"
# The baseline pushes from a mirror as small as its hub: git reads the local refs
# too, on every push.
small_mirror="$work/small-mirror"
git init -q --bare -b main "$small_mirror"
git -C "$small_mirror" fetch -q --no-tags "$mirror" main:main 'refs/tags/patchew/new-*:refs/tags/patchew/new-*'

# Patchew's queue, empty: a static answer is all prune asks for.
mkdir -p "$work/www/api/v1/series/unapplied"
echo '{"count": 0, "next": null, "previous": null, "results": []}' \
  >"$work/www/api/v1/series/unapplied/index.html"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
python3 -m http.server --bind 127.0.0.1 --directory "$work/www" "$port" >/dev/null 2>&1 &
server_pid=$!
for _ in $(seq 50); do
  curl -sf "http://127.0.0.1:$port/api/v1/series/unapplied/" >/dev/null && break
  sleep 0.1
done
git -C "$mirror" config patchew.server "http://127.0.0.1:$port"

push_ms() { # from hub stem: median milliseconds of $runs pushes of one new tag each
  local from=$1 hub=$2 stem=$3 t0 t1 times=() n
  for n in $(seq "$runs"); do
    git -C "$from" tag -a -m push "patchew/$stem-$n@bench.example.org"
    t0=$(date +%s%N)
    git -C "$from" push -q "$hub" "refs/tags/patchew/$stem-$n@bench.example.org"
    t1=$(date +%s%N)
    times+=($(((t1 - t0) / 1000)))
  done
  printf '%s\n' "${times[@]}" | sort -n | awk '{ a[NR] = $1 } END { printf "%.1f", a[int((NR + 1) / 2)] / 1000 }'
}

small=$(push_ms "$small_mirror" "$work/small.git" small)
before=$(push_ms "$mirror" "$work/hub.git" before)
t0=$(date +%s%N)
(cd "$mirror" && "$bin" prune -q >/dev/null)
t1=$(date +%s%N)
after=$(push_ms "$mirror" "$work/hub.git" after)
left=$(git -C "$work/hub.git" for-each-ref refs/tags | wc -l)

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", a / b }'; }
printf 'expired=%s recent=%s runs=%s (tags on the hub after prune: %s)\n' "$expired" "$recent" "$runs" "$left"
printf 'push of one tag, small hub (%s tags):   %8s ms\n' "$recent" "$small"
printf 'push of one tag, big hub before prune:  %8s ms  (%sx the small hub)\n' "$before" "$(ratio "$before" "$small")"
printf 'push of one tag, big hub after prune:   %8s ms  (%sx the small hub)\n' "$after" "$(ratio "$after" "$small")"
printf 'git patchew prune (%s tags):         %8.1f s\n' "$expired" "$(awk -v a="$t0" -v b="$t1" 'BEGIN { print (b - a) / 1e9 }')"
