#!/usr/bin/python3
"""Soak: `demandcenter run` for a long stretch at a steady rate with a
kill -9 every few minutes. Signals are produced paced (as they would arrive)
while one instance runs; every KILL_EVERY seconds it is killed with SIGKILL
and started again. Every 10 s the instance's RSS and the group's lag (signals
produced but not committed) are sampled. At the end the committed outputs,
read back read_committed, must equal replay's of the same signals: nothing
lost, nothing twice. Not part of CI (it runs for MINUTES).

  DEMANDCENTER_BOOTSTRAP=127.0.0.1:9092 benchmarks/soak.py [MINUTES [RATE [KILL_EVERY]]]

Defaults: 30 minutes, 1000 signals/s (about half of what one instance
sustains on this workload here once its cache is full, docs/performance.md),
a kill every 300 s. Besides the samples it prints each stretch between two
kills (peak RSS, mean and max lag): flat means those stay level.
"""
import hashlib
import json
import os
import signal
import sys
import threading
import time
from collections import defaultdict

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "integration"))
import harness  # noqa: E402


def rss_mb(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


class Digests:
    """Per (topic, key): how many records and a hash of their values in
    order. Millions of outputs do not fit in memory as objects; their
    digests do, and two streams agree exactly when their digests do."""

    def __init__(self):
        self.count = defaultdict(int)
        self.hash = defaultdict(hashlib.sha1)

    def add(self, topic, key, value):
        self.count[(topic, key)] += 1
        self.hash[(topic, key)].update(json.dumps(value, sort_keys=True).encode() + b"\n")

    def total(self):
        return sum(self.count.values())

    def differences(self, other, limit=5):
        keys = sorted(k for k in set(self.count) | set(other.count)
                      if self.count.get(k) != other.count.get(k)
                      or self.hash[k].digest() != other.hash[k].digest())
        return len(keys), [f"{k}: expected {self.count.get(k, 0)} records, got {other.count.get(k, 0)}"
                           + ("" if self.count.get(k) != other.count.get(k) else " (values differ)")
                           for k in keys[:limit]]


def replay_digests(app, path):
    d = Digests()
    with open(app.replay_to_file(path)) as f:
        for line in f:
            rec = json.loads(line)
            d.add(rec["topic"], rec["key"], rec["value"])
    return d


def output_digests(app):
    d = Digests()
    for kind in harness.OUTPUT_KINDS:
        topic = app.topics[kind]
        app.read_topic(topic, visit=lambda m: d.add(topic, m.key().decode(), json.loads(m.value())))
    return d


def produce_paced(app, path, rate, done):
    app.produce(path, rate)
    done.set()


def main():
    minutes = float(sys.argv[1]) if len(sys.argv) > 1 else 30
    rate = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
    kill_every = float(sys.argv[3]) if len(sys.argv) > 3 else 300
    signals = int(minutes * 60 * rate)
    app = harness.App("soak")
    try:
        path = app.generate(max(1000, signals // 10), signals, 23)
        expected = replay_digests(app, path)
        os.remove(os.path.join(app.workdir, "replay.jsonl"))
        produced = threading.Event()
        producer = threading.Thread(target=produce_paced, args=(app, path, rate, produced), daemon=True)
        app.start("0")
        producer.start()
        started = time.time()
        next_kill = started + kill_every
        samples, kills = [], 0
        while not produced.is_set():
            time.sleep(10)
            proc, _ = app.instances["0"]
            ends = app.signal_ends()
            committed = app.committed()
            lag = sum(max(0, e - max(0, committed.get(p, 0))) for p, e in ends.items())
            samples.append((time.time() - started, rss_mb(proc.pid), lag, kills))
            print(f"  {samples[-1][0]:6.0f} s  RSS {samples[-1][1]:6.0f} MB  lag {lag:7d}", flush=True)
            if time.time() >= next_kill:
                app.kill("0", signal.SIGKILL)
                kills += 1
                app.start("0")
                next_kill += kill_every
        app.wait_consumed(timeout=1800)
        got = output_digests(app)
        differing, problems = expected.differences(got)
        third = max(1, len(samples) // 3)
        first, last = samples[:third], samples[-third:]
        avg = lambda rows, i: sum(r[i] for r in rows) / len(rows)  # noqa: E731
        print(f"soak: {signals} signals over {minutes:g} min at {rate}/s, {kills} kill -9; "
              f"RSS first third {avg(first, 1):.0f} MB, last third {avg(last, 1):.0f} MB; "
              f"lag first third {avg(first, 2):.0f}, last third {avg(last, 2):.0f}; "
              f"outputs {got.total()} committed, {expected.total()} by replay, "
              f"{differing} keys differ")
        # Between two kills the process starts empty, so flat means: each
        # stretch peaks at the same RSS and its lag stays as low.
        print("per stretch between kills: peak RSS MB, mean lag, max lag")
        for stretch in range(kills + 1):
            rows = [r for r in samples if r[3] == stretch]
            if rows:
                print(f"  {stretch}: {max(r[1] for r in rows):6.0f}  {avg(rows, 2):9.0f}  {max(r[2] for r in rows):8d}")
        for p in problems:
            print("  ", p)
        sys.exit(1 if differing or got.total() != expected.total() else 0)
    finally:
        app.cleanup()


if __name__ == "__main__":
    main()
