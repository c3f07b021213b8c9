#!/usr/bin/env bash
# The whole test suite on a fresh machine: installs the packages, builds,
# runs every test (unit, scenarios, CLI acceptance), bounded fuzz runs of the
# signal decoder and the config loader, the Kafka integration tests against a real Apache Kafka
# broker started here (deploy/local/kafka.sh), then the broker-fault tests on a three-node
# cluster; the brokers are stopped afterwards.
#   scripts/test.sh            (FUZZ_SECONDS=30 by default)
set -euo pipefail
cd "$(dirname "$0")/.."

# Where the time goes (CI's budget): each phase's end, in seconds since the start.
phase() { printf 'test.sh: %s done at %d s\n' "$1" "$SECONDS" >&2; }

bash scripts/setup.sh
phase setup
# -g1 (line tables, functions) for readable failures at a fraction of -g's
# compile and link time.
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -g1 -DNDEBUG" >/dev/null
cmake --build build -j"$(nproc)"
phase build
ctest --test-dir build --output-on-failure -j"$(nproc)"
phase ctest
# The operator's console in headless Chromium against the demo's HTTP endpoints.
/usr/bin/python3 tests/console/test_console.py
phase "console test"
# Each fuzzer under the RSS limit it must fit: the decoder for FUZZ_SECONDS,
# the others for a third as long.
fuzz_seconds="${FUZZ_SECONDS:-30}"
bash scripts/fuzz.sh "$fuzz_seconds" -rss_limit_mb=512
for target in config_fuzz pool_update_fuzz http_fuzz; do
  FUZZ_TARGET=$target bash scripts/fuzz.sh $(((fuzz_seconds + 2) / 3)) -rss_limit_mb=512
done
phase fuzz

# Kafka integration tests: a real broker on loopback.
stop_kafka() { deploy/local/kafka.sh stop >/dev/null 2>&1 || true; }
trap stop_kafka EXIT
servers=$(deploy/local/kafka.sh start | tail -n 1)
# 50,000 signals per test (10,000 accounts) keep CI within its budget; the
# tests default to 100,000 when run by hand.
DEMANDCENTER_IT_SIGNALS="${DEMANDCENTER_IT_SIGNALS:-50000}" DEMANDCENTER_BOOTSTRAP="$servers" \
  /usr/bin/python3 tests/integration/test_kafka.py
phase "Kafka tests"
# The deploy assets (promtool, manifests, systemd unit, dashboard, create-topics.py
# on this broker) and a real Prometheus scraping the engine.
DEMANDCENTER_BOOTSTRAP="$servers" /usr/bin/python3 -m unittest discover -s tests/deploy -p 'test_*.py'
DEMANDCENTER_BOOTSTRAP="$servers" /usr/bin/python3 tests/integration/test_prometheus.py
phase "deploy and Prometheus tests"
# Operating a running engine: account queries across two instances, reload, inspect.
DEMANDCENTER_BOOTSTRAP="$servers" /usr/bin/python3 tests/integration/test_operate.py
phase "operating tests"
# The benchmark harness on a small input, so it cannot rot: every contender
# (passthrough, the engine at 1 and 2 threads, the Kafka Streams peer built
# with Maven) must consume all of it; no timing is asserted.
DEMANDCENTER_BOOTSTRAP="$servers" /usr/bin/python3 benchmarks/contenders.py --small
phase "benchmark harness (small)"

# Kafka security: the engine against a SASL_PLAINTEXT/SCRAM listener (the test starts and
# stops its own cluster, kafka.sh start --sasl, in a run dir and on ports of its own).
/usr/bin/python3 tests/integration/test_security.py
phase "Kafka security tests"

# Broker faults: a three-node cluster, every test topic with three replicas
# and min.insync.replicas 2.
deploy/local/kafka.sh stop >/dev/null
servers=$(deploy/local/kafka.sh start --brokers 3 | tail -n 1)
DEMANDCENTER_IT_REPLICATION=3 DEMANDCENTER_BOOTSTRAP="$servers" /usr/bin/python3 tests/integration/test_broker_faults.py
phase "broker-fault tests"
