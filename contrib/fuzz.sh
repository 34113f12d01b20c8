#!/bin/sh
# Runs the cargo-fuzz targets of fuzz/ one after the other, SECONDS each (default
# 600), on the nightly toolchain. Corpora grow under fuzz/corpus/<target> (ignored by
# git), seeded from the small committed fuzz/seeds/<target>; crashes land in
# fuzz/artifacts/<target>. Usage: contrib/fuzz.sh [SECONDS] [TARGET...]
# Needs: rustup toolchain nightly, `cargo install cargo-fuzz`.
set -eu
cd "$(dirname "$0")/../fuzz"
secs=${1:-600}
[ $# -gt 0 ] && shift
targets=${*:-"hunk_apply diff_parse mail_parse mbox_split ci_inject ci_verdict"}
cargo +nightly fuzz build -O
status=0
for t in $targets; do
    mkdir -p "corpus/$t"
    echo "== $t: ${secs}s"
    # -rss_limit_mb: the code under test must stay bounded even on hostile input.
    cargo +nightly fuzz run -O "$t" "corpus/$t" "seeds/$t" -- \
        -max_total_time="$secs" -rss_limit_mb=2048 -timeout=20 -print_final_stats=1 \
        2>&1 | grep -v '^#[0-9]*	\(NEW\|REDUCE\|pulse\)' || status=1
done
exit $status
