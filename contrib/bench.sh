#!/usr/bin/env bash
# Benchmark: git patchew apply (bare clone, object database only) against git am
# (worktree), on the same generated series, in the same run. Prints times, ratios and
# our peak memory.
#
#   contrib/bench.sh [FILES] [SIZES...]     e.g. contrib/bench.sh 3000 1 10 50 100 500
#
# Needs git, cargo and GNU time (/usr/bin/time). Everything happens in a temp dir.
set -euo pipefail

files=${1:-3000}
shift || true
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(1 10 50 100 500)
max=0
for n in "${sizes[@]}"; do [ "$n" -gt "$max" ] && max=$n; done

top=$(cd "$(dirname "$0")/.." && pwd)
cargo build --profile profiling --quiet --manifest-path "$top/Cargo.toml"
bin="$top/target/profiling/git-patchew"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export GIT_AUTHOR_NAME=Bench GIT_AUTHOR_EMAIL=bench@example.com
export GIT_COMMITTER_NAME=Bench GIT_COMMITTER_EMAIL=bench@example.com
export GIT_CONFIG_NOSYSTEM=1 HOME="$work"

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }

echo "generating a repository of $files files and a $max-commit history..."
src="$work/src"
git init -q -b main "$src"
awk -v files="$files" -v dir="$src" 'BEGIN {
  for (f = 0; f < files; f++) {
    path = sprintf("%s/d%03d/f%05d.c", dir, f % 100, f)
    if (f < 100) system("mkdir -p " dir sprintf("/d%03d", f))
    for (l = 0; l < 60; l++) printf "int f%05d_line%02d = %d;\n", f, l, l * f > path
    close(path)
  }
}'
git -C "$src" add -A && git -C "$src" commit -qm base
base=$(git -C "$src" rev-parse HEAD)
# Each commit edits three files in two places and, every tenth, adds one.
awk -v n="$max" -v files="$files" 'BEGIN { srand(42); for (i = 1; i <= n; i++) {
  line = i; for (k = 0; k < 3; k++) line = line " " int(rand() * files) " " int(rand() * 25) + 1 " " int(rand() * 25) + 32
  print line } }' |
while read -r i f1 a1 b1 f2 a2 b2 f3 a3 b3; do
  for spec in "$f1 $a1 $b1" "$f2 $a2 $b2" "$f3 $a3 $b3"; do
    set -- $spec
    sed -i "$2s/\$/ \/* c$i *\//; $3s/= /= 1 + /" "$(printf "%s/d%03d/f%05d.c" "$src" $(($1 % 100)) "$1")"
  done
  if [ $((i % 10)) = 0 ]; then echo "int added$i;" > "$src/d000/new$i.c"; fi
  git -C "$src" add -A && git -C "$src" commit -qm "commit $i: edit three files"
done
total=$(git -C "$src" rev-list --count "$base"..HEAD)
echo "history: $total commits"

printf '\n%7s %10s %10s %10s %12s %12s %10s\n' patches am_checkout am_apply patchew x_vs_total x_vs_apply peak_MiB
for n in "${sizes[@]}"; do
  [ "$n" -le "$total" ] || continue
  tip=$(git -C "$src" rev-list --reverse "$base"..HEAD | sed -n "${n}p")
  mbox="$work/s$n.mbox"
  git -C "$src" format-patch -q --stdout --binary "$base..$tip" > "$mbox"

  rm -rf "$work/am" && git clone -q --no-checkout "$src" "$work/am"
  t0=$(now); git -C "$work/am" checkout -q --detach "$base"; t1=$(now)
  git -C "$work/am" am -q --keep-cr "$mbox"; t2=$(now)
  checkout=$(elapsed "$t0" "$t1"); am=$(elapsed "$t1" "$t2")

  rm -rf "$work/bare.git" && git clone -q --bare "$src" "$work/bare.git"
  t3=$(now)
  ( cd "$work/bare.git" && /usr/bin/time -f %M -o "$work/rss" "$bin" apply --mbox "$mbox" --base "$base" --no-ci --no-tag > "$work/head" )
  t4=$(now)
  ours=$(elapsed "$t3" "$t4")
  same=$( [ "$(git -C "$work/bare.git" rev-parse "$(cat "$work/head")^{tree}")" = "$(git -C "$work/am" rev-parse 'HEAD^{tree}')" ] && echo same || echo DIFFERENT )
  rss=$(awk '{ printf "%.1f", $1 / 1024 }' "$work/rss")
  printf '%7s %10s %10s %10s %11sx %11sx %10s  tree %s\n' "$n" "$checkout" "$am" "$ours" \
    "$(awk -v a="$checkout" -v b="$am" -v c="$ours" 'BEGIN { printf "%.1f", (a + b) / c }')" \
    "$(awk -v b="$am" -v c="$ours" 'BEGIN { printf "%.1f", b / c }')" "$rss" "$same"
done
