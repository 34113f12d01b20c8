#!/bin/sh
# The heaviest hostile-input cases of tests/hostile.rs, too slow for every test run:
# a 200 MB mbox (one patch creating a 200 MB file) and a 10,000-patch series, each
# applied with peak RSS measured by /usr/bin/time (Debian package `time`). Runs the
# tests with GIT_PATCHEW_HEAVY=1 in release mode, where they take about 10 s each.
# Tests assert memory bounds only; the speed of a 10,000-patch series is compared
# with git am's here, by contrib/bench.sh, which prints the ratio.
# Usage: contrib/hostile-heavy.sh [--no-bench]
set -eu
cd "$(dirname "$0")/.."
GIT_PATCHEW_HEAVY=1 cargo test --release --test all -- --nocapture \
    big_mbox_applies_in_bounded_memory \
    ten_thousand_patch_series_applies_in_bounded_memory_and_time
[ "${1:-}" = --no-bench ] || contrib/bench.sh 300 10000
