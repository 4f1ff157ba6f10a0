#!/usr/bin/env bash
# Sets everything up, builds the release binary and runs the bundled quickstart scenario.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cmake --preset release >/dev/null
cmake --build --preset release --target lockstep
exec build/release/lockstep run scenarios/quickstart.json "$@"
