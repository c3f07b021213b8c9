#!/usr/bin/env bash
# The whole test suite on a fresh machine: installs the packages, builds,
# runs every test (unit, scenarios, CLI acceptance), bounded fuzz runs of the
# signal decoder and the config loader, and the Kafka integration tests against a real Apache Kafka
# broker started here (deploy/local/kafka.sh) and stopped afterwards.
#   scripts/test.sh            (FUZZ_SECONDS=45 by default)
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)"
ctest --test-dir build --output-on-failure -j"$(nproc)"
# Each fuzzer under the RSS limit it must fit: the decoder for FUZZ_SECONDS,
# the others for a third as long.
fuzz_seconds="${FUZZ_SECONDS:-45}"
bash scripts/fuzz.sh "$fuzz_seconds" -rss_limit_mb=512
for target in config_fuzz pool_update_fuzz http_fuzz; do
  FUZZ_TARGET=$target bash scripts/fuzz.sh $(((fuzz_seconds + 2) / 3)) -rss_limit_mb=512
done

# Kafka integration tests: a real broker on loopback.
stop_kafka() { deploy/local/kafka.sh stop >/dev/null 2>&1 || true; }
trap stop_kafka EXIT
servers=$(deploy/local/kafka.sh start | tail -n 1)
DEMANDCENTER_BOOTSTRAP="$servers" /usr/bin/python3 tests/integration/test_kafka.py
