#!/usr/bin/env bash
# Benchmark: peak memory of git patchew apply on a big mbox (target: at most twice
# the mbox size plus a constant), against git am on the same mbox, in three cases:
#   series  PATCHES patches, each adding a text file, about TOTAL_MB megabytes in all;
#   new     ONE patch adding a text file of about TOTAL_MB megabytes;
#   modify  ONE patch rewriting every other line of a file of about TOTAL_MB/2
#           megabytes (so the mail is about TOTAL_MB megabytes too).
#
#   contrib/bench-memory.sh [TOTAL_MB] [PATCHES] [CASES]   default: 200 20 "series new modify"
#
# Needs git, cargo and GNU time (/usr/bin/time). BIN=path/to/git-patchew skips the
# release build.
set -euo pipefail

total_mb=${1:-200}
patches=${2:-20}
cases=${3:-series new modify}
top=$(cd "$(dirname "$0")/.." && pwd)
if [ -z "${BIN:-}" ]; then
  cargo build --release --quiet --manifest-path "$top/Cargo.toml"
  BIN="$top/target/release/git-patchew"
fi
BIN=$(realpath "$BIN")

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export GIT_AUTHOR_NAME=Bench GIT_AUTHOR_EMAIL=bench@example.com
export GIT_COMMITTER_NAME=Bench GIT_COMMITTER_EMAIL=bench@example.com
export GIT_CONFIG_NOSYSTEM=1 HOME="$work" TZ=UTC

# gen FILE LINES TAG EVERY: LINES lines of 48 bytes; every EVERY-th line says TAG.
gen() {
  awk -v n="$2" -v t="$3" -v e="$4" 'BEGIN { for (l = 0; l < n; l++)
    printf "%-6s %4d line %9d of generated text.....\n", (l % e == 0 ? t : "text"), e, l }' > "$1"
}

# measure CASE: builds the source repo's commits after "base", then applies them.
measure() {
  local name=$1 dir="$work/$1" src base i lines
  src="$dir/src"
  git init -q -b main "$src"
  echo seed > "$src/seed"
  case $name in
    modify) gen "$src/big.txt" $((total_mb * 1024 * 1024 / 2 / 48)) text 1 ;;
  esac
  git -C "$src" add -A && git -C "$src" commit -qm base
  base=$(git -C "$src" rev-parse HEAD)
  case $name in
    series)
      lines=$((total_mb * 1024 * 1024 / patches / 48))
      for i in $(seq 1 "$patches"); do
        gen "$src/f$i.txt" "$lines" "p$i" 1
        git -C "$src" add -A && git -C "$src" commit -qm "add f$i.txt"
      done ;;
    new)
      gen "$src/big.txt" $((total_mb * 1024 * 1024 / 48)) new 1
      git -C "$src" add -A && git -C "$src" commit -qm "add big.txt" ;;
    modify)
      gen "$src/big.txt" $((total_mb * 1024 * 1024 / 2 / 48)) changed 2
      git -C "$src" add -A && git -C "$src" commit -qm "change big.txt" ;;
  esac
  local mbox="$dir/series.mbox"
  git -C "$src" format-patch -q --stdout "$base..HEAD" > "$mbox"
  local mbox_mib
  mbox_mib=$(awk -v b="$(stat -c %s "$mbox")" 'BEGIN { printf "%.1f", b / 1048576 }')

  git clone -q --bare "$src" "$dir/bare.git"
  ( cd "$dir/bare.git" && /usr/bin/time -f '%M %e' -o "$dir/ours" "$BIN" apply --mbox "$mbox" --base "$base" --no-ci --no-tag > "$dir/head" )
  git clone -q "$src" "$dir/am" && git -C "$dir/am" checkout -q --detach "$base"
  ( cd "$dir/am" && /usr/bin/time -f '%M %e' -o "$dir/am.time" git am -q --keep-cr "$mbox" )
  local same
  same=$( [ "$(git -C "$dir/bare.git" rev-parse "$(cat "$dir/head")^{tree}")" = "$(git -C "$dir/am" rev-parse 'HEAD^{tree}')" ] && echo same || echo DIFFERENT )

  local ours_kb ours_s am_kb am_s
  read -r ours_kb ours_s < "$dir/ours"
  read -r am_kb am_s < "$dir/am.time"
  printf '%-8s %10s %12.1f %11.2fx %10s %12.1f %10s  tree %s\n' "$name" "$mbox_mib" "$(echo "$ours_kb / 1024" | bc -l)" \
    "$(echo "$ours_kb / 1024 / $mbox_mib" | bc -l)" "$ours_s" "$(echo "$am_kb / 1024" | bc -l)" "$am_s" "$same"
  rm -rf "$dir"
}

printf '\n%-8s %10s %12s %12s %10s %12s %10s\n' case mbox_MiB patchew_MiB x_mbox seconds git_am_MiB seconds
for c in $cases; do
  measure "$c"
done
