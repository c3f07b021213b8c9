#!/usr/bin/env bash
# Runs the demo on a fresh machine: installs the packages, builds, and starts
# `demandcenter demo` (embedded Kafka, generated journeys, the engine, a live
# view). Arguments go to the demo, e.g. scripts/demo.sh --duration 30s
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
if [[ ! -x build/demandcenter ]] || [[ -n "$(find src include proto deploy/config CMakeLists.txt -newer build/demandcenter -print -quit)" ]]; then
  cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -g1 -DNDEBUG" >/dev/null
  cmake --build build -j"$(nproc)" --target demandcenter
fi
exec build/demandcenter demo "$@"
