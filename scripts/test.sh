#!/usr/bin/env bash
# Sets everything up and runs every test. The release build runs the end-to-end tests, which drive
# the `lockstep` program users run (each scenario twice to compare trace hashes, a 500-seed fuzz
# batch per protocol, lincheck on public histories); then ASan + UBSan build and run everything,
# unit and property tests included. The unit tests run once, where they find the most: building
# them a second time for the release run would cost CI's two cores about four minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
jobs=$(nproc)

cmake --preset release >/dev/null
cmake --build --preset release-programs -j "$jobs"
ctest --preset release-end-to-end

cmake --preset asan >/dev/null
cmake --build --preset asan -j "$jobs"
ctest --preset asan
