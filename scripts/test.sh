#!/usr/bin/env bash
# Sets everything up and runs every test: the release build (unit, property and scenario tests,
# each scenario twice to compare trace hashes), then the same suite under ASan + UBSan.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
jobs=$(nproc)

cmake --preset release >/dev/null
cmake --build --preset release -j "$jobs"
ctest --preset release

cmake --preset asan >/dev/null
cmake --build --preset asan -j "$jobs"
ctest --preset asan
