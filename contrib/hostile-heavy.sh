#!/bin/sh
# The heaviest hostile-input cases of tests/hostile.rs, too slow for every test run:
# a 200 MB mbox (one patch creating a 200 MB file) and a 10,000-patch series, each
# applied with peak RSS measured by /usr/bin/time (Debian package `time`). Runs the
# tests with GIT_PATCHEW_HEAVY=1 in release mode, where they take about 10 s each.
# Usage: contrib/hostile-heavy.sh
set -eu
cd "$(dirname "$0")/.."
GIT_PATCHEW_HEAVY=1 cargo test --release --test hostile -- --nocapture \
    big_mbox_applies_in_bounded_memory \
    ten_thousand_patch_series_applies_in_bounded_memory_and_time
