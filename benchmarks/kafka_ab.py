#!/usr/bin/python3
"""Two builds of `demandcenter run` on the same broker and input, in
alternating pairs (before, after, after, before, ...), so the machine's
noise falls on both alike. Each run consumes a freshly produced copy of the
same generated stream from process start until every input record is
committed; the medians and their ratio are printed at the end.

  DEMANDCENTER_BOOTSTRAP=127.0.0.1:9092 benchmarks/kafka_ab.py BEFORE_BIN AFTER_BIN [PAIRS] [SIGNALS] [ACCOUNTS]
"""
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "integration"))
import harness  # noqa: E402


def measure(binary, signals, accounts):
    app = harness.App("ab", json_outputs=False)
    try:
        produced = app.produce(app.generate(accounts, signals, 42))
        harness.BIN = binary
        start = time.time()
        proc = app.start("0")
        app.wait_consumed()
        took = time.time() - start
        with open(f"/proc/{proc.pid}/status") as f:
            peak_kb = next(int(line.split()[1]) for line in f if line.startswith("VmHWM"))
        with open(f"/proc/{proc.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        return {"seconds": took, "rate": produced / took, "cpu": cpu, "peak_mb": peak_kb // 1024}
    finally:
        app.cleanup()


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    builds = {"before": sys.argv[1], "after": sys.argv[2]}
    pairs = int(sys.argv[3]) if len(sys.argv) > 3 else 3
    signals = int(sys.argv[4]) if len(sys.argv) > 4 else 100000
    accounts = int(sys.argv[5]) if len(sys.argv) > 5 else 10000
    for name, path in builds.items():
        if not os.access(path, os.X_OK):
            sys.exit(f"kafka_ab: {name} build {path} is not an executable file")
    results = {"before": [], "after": []}
    for i in range(pairs):
        for name in ("before", "after") if i % 2 == 0 else ("after", "before"):
            r = measure(builds[name], signals, accounts)
            results[name].append(r)
            print(f"{name}: {r['seconds']:.2f} s, {r['rate']:.0f} signals/s, {r['cpu']:.1f} CPU-s, "
                  f"peak RSS {r['peak_mb']} MB", flush=True)
    median = {name: {k: statistics.median(r[k] for r in runs) for k in ("seconds", "cpu", "peak_mb")}
              for name, runs in results.items()}
    for name in ("before", "after"):
        m = median[name]
        print(f"median {name}: {m['seconds']:.2f} s, {m['cpu']:.1f} CPU-s, peak RSS {m['peak_mb']:.0f} MB")
    b, a = median["before"], median["after"]
    print(f"after/before: time {a['seconds'] / b['seconds']:.2f}, CPU {a['cpu'] / b['cpu']:.2f}, "
          f"peak RSS {a['peak_mb'] / b['peak_mb']:.2f}")


if __name__ == "__main__":
    main()
