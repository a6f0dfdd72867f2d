#!/usr/bin/env bash
# Installs what the tests need, builds greffier with its tests, and runs the whole suite.
# Tests labelled `shared` use ../shared/ and skip with a message when it is absent.
set -euo pipefail
cd "$(dirname "$0")/.."

bash deploy/install-deps.sh

BUILD=${GREFFIER_BUILD_DIR:-build}
JOBS=$(nproc)
cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DGREFFIER_BUILD_TESTS=ON >/dev/null
cmake --build "$BUILD" -j"$JOBS"
ctest --test-dir "$BUILD" --output-on-failure -j"$JOBS" --timeout 900
