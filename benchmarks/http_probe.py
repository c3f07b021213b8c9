#!/usr/bin/env python3
"""/healthz latency with and without 50 half-open connections held.

Starts `demandcenter demo` (embedded Kafka) with its HTTP server, measures
200 /healthz round trips with no other connection (the baseline), then 200
more while 50 connections that sent half a request are held open. Prints
p50/p99/max of each and the ratio of the p99s; the probe must stay well
under a liveness probe's timeout (100 ms at p99 is the goal).

    benchmarks/http_probe.py [BUILD_DIR]
"""
import os
import socket
import subprocess
import sys
import time

PORT = 18099


def healthz():
    start = time.perf_counter()
    s = socket.create_connection(("127.0.0.1", PORT), timeout=30)
    s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    reply = s.recv(64)
    s.close()
    if not reply.startswith(b"HTTP/1.1 200"):
        raise SystemExit(f"/healthz answered {reply!r}")
    return time.perf_counter() - start


def percentiles(samples):
    samples = sorted(samples)
    return {p: samples[min(len(samples) - 1, int(len(samples) * p / 100))] * 1000 for p in (50, 99, 100)}


def main():
    build = sys.argv[1] if len(sys.argv) > 1 else "build"
    demo = subprocess.Popen([os.path.join(build, "demandcenter"), "demo", "--duration", "60s",
                             "--http-bind", f"127.0.0.1:{PORT}"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 30
        while True:
            try:
                healthz()
                break
            except (OSError, SystemExit):
                if time.time() > deadline:
                    raise SystemExit("the demo's HTTP server did not come up")
                time.sleep(0.1)
        base = percentiles([healthz() for _ in range(200)])
        held = []
        for _ in range(50):
            s = socket.create_connection(("127.0.0.1", PORT))
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
            held.append(s)
        loaded = percentiles([healthz() for _ in range(200)])
        for s in held:
            s.close()
    finally:
        demo.terminate()
        demo.wait()
    for name, p in (("no other connection", base), ("50 half-open held", loaded)):
        print(f"/healthz, {name}: p50 {p[50]:.2f} ms, p99 {p[99]:.2f} ms, max {p[100]:.2f} ms")
    print(f"p99 ratio (half-open / baseline): {loaded[99] / base[99]:.2f}")


if __name__ == "__main__":
    main()
