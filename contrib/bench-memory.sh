#!/usr/bin/env bash
# Benchmark: peak memory of git patchew apply on a big mbox (target: at most twice
# the mbox size plus a constant), against git am on the same mbox. The series is
# PATCHES patches, each adding a text file, about TOTAL_MB megabytes in all.
#
#   contrib/bench-memory.sh [TOTAL_MB] [PATCHES]     default: 200 20
#
# Needs git, cargo and GNU time (/usr/bin/time). BIN=path/to/git-patchew skips the
# release build.
set -euo pipefail

total_mb=${1:-200}
patches=${2:-20}
top=$(cd "$(dirname "$0")/.." && pwd)
if [ -z "${BIN:-}" ]; then
  cargo build --release --quiet --manifest-path "$top/Cargo.toml"
  BIN="$top/target/release/git-patchew"
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export GIT_AUTHOR_NAME=Bench GIT_AUTHOR_EMAIL=bench@example.com
export GIT_COMMITTER_NAME=Bench GIT_COMMITTER_EMAIL=bench@example.com
export GIT_CONFIG_NOSYSTEM=1 HOME="$work" TZ=UTC

src="$work/src"
git init -q -b main "$src"
echo seed > "$src/seed"
git -C "$src" add -A && git -C "$src" commit -qm base
base=$(git -C "$src" rev-parse HEAD)
per_file=$((total_mb * 1024 * 1024 / patches / 48))
for i in $(seq 1 "$patches"); do
  awk -v n="$per_file" -v p="$i" 'BEGIN { for (l = 0; l < n; l++)
    printf "patch %4d line %9d of generated text.......\n", p, l }' > "$src/f$i.txt"
  git -C "$src" add -A && git -C "$src" commit -qm "add f$i.txt"
done
mbox="$work/series.mbox"
git -C "$src" format-patch -q --stdout "$base..HEAD" > "$mbox"
mbox_mib=$(awk -v b="$(stat -c %s "$mbox")" 'BEGIN { printf "%.1f", b / 1048576 }')

git clone -q --bare "$src" "$work/bare.git"
( cd "$work/bare.git" && /usr/bin/time -f '%M %e' -o "$work/ours" "$BIN" apply --mbox "$mbox" --base "$base" --no-ci --no-tag > "$work/head" )
git clone -q "$src" "$work/am" && git -C "$work/am" checkout -q --detach "$base"
( cd "$work/am" && /usr/bin/time -f '%M %e' -o "$work/am.time" git am -q --keep-cr "$mbox" )
same=$( [ "$(git -C "$work/bare.git" rev-parse "$(cat "$work/head")^{tree}")" = "$(git -C "$work/am" rev-parse 'HEAD^{tree}')" ] && echo same || echo DIFFERENT )

read -r ours_kb ours_s < "$work/ours"
read -r am_kb am_s < "$work/am.time"
printf '\n%10s %12s %12s %10s %12s %10s\n' mbox_MiB patchew_MiB x_mbox seconds git_am_MiB seconds
printf '%10s %12.1f %11.2fx %10s %12.1f %10s  tree %s\n' "$mbox_mib" "$(echo "$ours_kb / 1024" | bc -l)" \
  "$(echo "$ours_kb / 1024 / $mbox_mib" | bc -l)" "$ours_s" "$(echo "$am_kb / 1024" | bc -l)" "$am_s" "$same"
