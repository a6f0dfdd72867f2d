#!/usr/bin/env bash
# Installs what the tests need, builds greffier with its tests, and runs the whole suite.
# Tests labelled `shared` use ../shared/ and skip with a message when it is absent.
set -euo pipefail
cd "$(dirname "$0")/.."

bash deploy/install-deps.sh

BUILD=${GREFFIER_BUILD_DIR:-build}
JOBS=$(nproc)
# The parsers of untrusted files first, under AddressSanitizer + UBSan: bad GGUF models and
# corrupt stored records must give errors, never memory errors.
cmake -S . -B "$BUILD-asan" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DGREFFIER_ASAN=ON \
  -DGREFFIER_BUILD_TESTS=ON >/dev/null
cmake --build "$BUILD-asan" -j"$JOBS" --target generate_gguf_test index_records_test
for t in generate/generate_gguf_test index/index_records_test; do
  echo "== $t (ASan + UBSan)"
  "$BUILD-asan/tests/$t" --gtest_brief=1
done

cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DGREFFIER_BUILD_TESTS=ON >/dev/null
cmake --build "$BUILD" -j"$JOBS"
ctest --test-dir "$BUILD" --output-on-failure -j"$JOBS" --timeout 900
