#!/usr/bin/env bash
# Benchmark: applying a big patch mailed base64- or quoted-printable-encoded against
# the same patch mailed as plain text (target: encoded under 2x plain), with git am
# on the same mails for comparison. Two shapes: many ordinary lines, and one file
# that is a single long line (the decoded text then has no line end for megabytes,
# which made our line splitting quadratic). Prints times, ratios and peak memory.
#
#   contrib/bench-decode.sh [MEGABYTES] [LONG_LINE_MEGABYTES]   default: 37 4
#   RUNS=N: our time is the best of N runs (default 3).
#
# 37 MB of text gives a base64 mail of about 50 MB. Needs git, cargo, base64 and GNU
# time (/usr/bin/time). BIN=path/to/git-patchew skips the release build.
set -euo pipefail

mb=${1:-37}
long_mb=${2:-4}
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

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

src="$work/src"
git init -q -b main "$src"
echo seed > "$src/seed"
git -C "$src" add -A && git -C "$src" commit -qm base
base=$(git -C "$src" rev-parse HEAD)

# One commit per shape, each on the base.
awk -v mb="$mb" 'BEGIN { n = mb * 1024 * 1024 / 48; for (i = 0; i < n; i++)
  printf "line %9d of a big generated text file....\n", i }' > "$src/big.txt"
git -C "$src" add -A && git -C "$src" commit -qm "a big text file"
lines=$(git -C "$src" rev-parse HEAD)
git -C "$src" reset -q --hard "$base"
head -c $((long_mb * 1024 * 1024)) /dev/zero | tr '\0' 'x' > "$src/long.txt"
git -C "$src" add -A && git -C "$src" commit -qm "one long line"
long=$(git -C "$src" rev-parse HEAD)

# The same mail with its body transfer-encoded.
encode() { # encode PLAIN OUT base64|quoted-printable
  awk 'NR == 1, /^$/ { if ($0 == "") exit; print }' "$1" > "$2"
  printf 'MIME-Version: 1.0\nContent-Type: text/plain; charset=UTF-8\nContent-Transfer-Encoding: %s\n\n' "$3" >> "$2"
  if [ "$3" = base64 ]; then
    awk 'f; /^$/ && !f { f = 1 }' "$1" | base64 -w 76 >> "$2"
  else
    # Soft line breaks every 76 bytes; '=' itself escaped.
    awk 'f; /^$/ && !f { f = 1 }' "$1" | sed 's/=/=3D/g' | fold -w 75 |
      awk '{ if (length($0) == 75) print $0 "="; else print }' >> "$2"
  fi
}

run_am() { # run_am MBOX -> seconds
  rm -rf "$work/am" && git clone -q "$src" "$work/am" && git -C "$work/am" checkout -q --detach "$base"
  local t0 t1; t0=$(now)
  git -C "$work/am" am -q --keep-cr "$1" >/dev/null 2>&1 || echo "git am failed on $1" >&2
  t1=$(now); elapsed "$t0" "$t1"
}

run_ours() { # run_ours MBOX -> "seconds peak_MiB tree": the best of RUNS runs, a
  # single run of a second on a shared machine being off by half of it.
  local best= t0 t1 secs i
  for i in $(seq 1 "${RUNS:-3}"); do
    rm -rf "$work/bare.git" && git clone -q --bare "$src" "$work/bare.git"
    t0=$(now)
    ( cd "$work/bare.git" && /usr/bin/time -f %M -o "$work/rss" "$BIN" apply --mbox "$1" --base "$base" --no-ci --no-tag --quoted-cr=nowarn > "$work/head" )
    t1=$(now)
    secs=$(elapsed "$t0" "$t1")
    if [ -z "$best" ] || awk -v a="$secs" -v b="$best" 'BEGIN { exit !(a < b) }'; then best=$secs; fi
  done
  echo "$best $(awk '{ printf "%.1f", $1 / 1024 }' "$work/rss") $(git -C "$work/bare.git" rev-parse "$(cat "$work/head")^{tree}")"
}

printf '\n%-22s %8s %10s %8s %8s %10s\n' mail MB patchew_s x_plain peak_MiB git_am_s
for shape in lines long; do
  commit=${!shape}
  plain="$work/$shape.plain.mbox"
  git -C "$src" format-patch -q --stdout -1 "$commit" > "$plain"
  want=$(git -C "$src" rev-parse "$commit^{tree}")
  plain_s=
  for enc in plain base64 quoted-printable; do
    mbox="$work/$shape.$enc.mbox"
    [ "$enc" = plain ] || encode "$plain" "$mbox" "$enc"
    read -r secs rss tree < <(run_ours "$mbox")
    [ "$tree" = "$want" ] || echo "WRONG TREE for $shape/$enc" >&2
    [ -n "$plain_s" ] || plain_s=$secs
    am=$(run_am "$mbox")
    printf '%-22s %8s %10s %7sx %8s %10s\n' "$shape/$enc" \
      "$(du -m "$mbox" | cut -f1)" "$secs" "$(ratio "$secs" "$plain_s")" "$rss" "$am"
  done
done
