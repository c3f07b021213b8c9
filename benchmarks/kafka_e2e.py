#!/usr/bin/python3
"""Kafka throughput of `demandcenter run` against a baseline measured in the
same run on the same broker and input: kafka_passthrough, a plain consume ->
transactional produce loop with the same commit model and no decisions.
Both are timed from process start until every input record is committed.

  DEMANDCENTER_BOOTSTRAP=127.0.0.1:9092 benchmarks/kafka_e2e.py [SIGNALS] [ACCOUNTS]
"""
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "integration"))
import harness  # noqa: E402

from confluent_kafka.admin import AdminClient, NewTopic  # noqa: E402


def main():
    signals = int(sys.argv[1]) if len(sys.argv) > 1 else 100000
    accounts = int(sys.argv[2]) if len(sys.argv) > 2 else 10000
    app = harness.App("bench", json_outputs=False)
    try:
        path = app.generate(accounts, signals, 42)
        produced = app.produce(path)
        passthrough_topic = f"{app.name}.passthrough"
        admin = AdminClient({"bootstrap.servers": harness.BOOTSTRAP})  # alive until the topic exists
        admin.create_topics([NewTopic(passthrough_topic, app.partitions, 1)])[passthrough_topic].result()
        tool = os.path.join(os.path.dirname(harness.BIN), "benchmarks", "kafka_passthrough")
        start = time.time()
        subprocess.run([tool, harness.BOOTSTRAP, app.topics["signals"], passthrough_topic, f"{app.name}-pt",
                        str(produced)], check=True, stdout=subprocess.DEVNULL)
        base = time.time() - start
        start = time.time()
        app.start("0")
        app.wait_consumed()
        engine = time.time() - start
        print(f"Kafka end to end, {produced} signals ({accounts} accounts, {app.partitions} partitions), "
              f"one instance, from process start to all input committed:")
        print(f"  passthrough (consume -> transactional produce): {base:.2f} s, {produced / base:.0f} records/s")
        print(f"  demandcenter run (default rules):               {engine:.2f} s, {produced / engine:.0f} signals/s")
        print(f"  ratio engine/passthrough time: {engine / base:.2f}")
    finally:
        app.cleanup()


if __name__ == "__main__":
    main()
