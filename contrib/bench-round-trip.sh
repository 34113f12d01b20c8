#!/usr/bin/env bash
# Benchmark: the applier's round trip per phase (claim, fetch, apply, settle wait,
# check, push, report) against the Patchew stand-in of the test suite, at the
# default settings, at a fixed `patchew.claimSettle` of 2 s (the default before it
# was measured) and with no settle at all, with the stand-in next door and then
# answering every request 50 ms late; prints how much the settle adds to the round
# trip of `claimSettle 0` in each case. Three one-patch series per row, each one
# `git patchew applier --once` (a release build).
#
#   contrib/bench-round-trip.sh
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
cargo test --release --quiet --test all round_trip_by_phase -- --nocapture 2>&1 |
  grep -E '^(near|50 ms away), ' || {
    echo "bench-round-trip: the benchmark test failed; run it without the filter:" >&2
    echo "  cargo test --release --test all round_trip_by_phase -- --nocapture" >&2
    exit 1
  }
