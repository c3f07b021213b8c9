#!/usr/bin/python3
"""The cost of the identity hop (identity.scope global) on `demandcenter run`,
against identity scoped to the partition, measured in the same run on the
same broker and input: each pair runs both on their own topics, in turns,
timed from process start until every record of every topic the group reads
is committed; the medians' ratio is printed, and how many signals reached an
account in each (from the committed offsets and the dead-letter topic).

  DEMANDCENTER_BOOTSTRAP=127.0.0.1:9092 benchmarks/identity_hop.py [PAIRS] [SIGNALS] [ACCOUNTS]
"""
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "integration"))
import harness  # noqa: E402


def timed(global_identity, path):
    app = harness.App("hop-global" if global_identity else "hop-partition", json_outputs=False, signal_topics=3,
                      keyless_at_random=global_identity,
                      identity_scope="global" if global_identity else "partition")
    try:
        produced = app.produce(path)
        start = time.time()
        app.start("0")
        app.wait_consumed()
        seconds = time.time() - start
        dead = sum(app.end_offsets(app.topics["dlq"]).values())
        return seconds, produced, dead
    finally:
        app.stop_all()


def main():
    pairs = int(sys.argv[1]) if len(sys.argv) > 1 else 2
    signals = int(sys.argv[2]) if len(sys.argv) > 2 else 100000
    accounts = int(sys.argv[3]) if len(sys.argv) > 3 else 10000
    source = harness.App("hop-input")
    path = source.generate(accounts, signals, 42)
    runs = {False: [], True: []}
    for i in range(pairs):
        for global_identity in ((False, True) if i % 2 == 0 else (True, False)):
            seconds, produced, dead = timed(global_identity, path)
            runs[global_identity].append(seconds)
            name = "global   " if global_identity else "partition"
            print(f"  {name}: {seconds:6.2f} s for {produced} signals ({produced / seconds:7.0f}/s), "
                  f"{dead} dead letters", flush=True)
    base = statistics.median(runs[False])
    hop = statistics.median(runs[True])
    print(f"identity.scope global / partition, median of {pairs}: {hop:.2f} s / {base:.2f} s = {hop / base:.2f}")


if __name__ == "__main__":
    main()
