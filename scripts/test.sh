#!/usr/bin/env bash
# The whole test suite on a fresh machine: installs the packages, builds,
# runs every test (unit, scenarios, CLI acceptance) and a bounded fuzz run of
# the signal decoder.
#   scripts/test.sh            (FUZZ_SECONDS=60 by default)
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)"
ctest --test-dir build --output-on-failure -j"$(nproc)"
bash scripts/fuzz.sh "${FUZZ_SECONDS:-60}"
