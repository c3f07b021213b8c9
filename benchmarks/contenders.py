#!/usr/bin/python3
"""Every contender on the same input, in the same run, on one local broker:

  - passthrough: consume -> transactional produce with offsets, no decisions
    (benchmarks/kafka_passthrough: the Kafka I/O limit here);
  - `demandcenter run` with the shipped config, exactly once, at 1 and at 2
    processing threads (kafka.processing_threads);
  - the Kafka Streams peer (benchmarks/peers/kafka-streams), exactly_once_v2.

  benchmarks/contenders.py [--signals N] [--accounts A] [--partitions P]
                           [--latency-seconds S] [--results DIR] [--small]
                           [--only passthrough,run1,run2,peer]

Starts the local broker (deploy/local/kafka.sh) unless DEMANDCENTER_BOOTSTRAP
names one, preloads N generated signals on the three signal topics (web,
email, crm), and measures for each contender:

  - throughput: from its group's first commit to every input committed
    (and from its process start, start-up and read-ahead included);
  - end-to-end latency p50/p99/p99.9 at half its own throughput: a paced
    producer sends fresh signals to topics of their own, and a record's
    latency is from its send to the commit of the transaction that carries
    its offset (the same commit makes its outputs visible read_committed);
    sampled every 20 ms;
  - peak RSS (VmHWM) and CPU-seconds per million signals of the throughput
    run;
  - for `run` at 1 thread, restarts on the throughput run's state: killed
    (kill -9) and started on its local state, then stopped and started with
    the state directory wiped: seconds from the start to /readyz, and the
    changelog records restored (so a restore rate).

Writes DIR/<date>.md and DIR/<date>.json (default benchmarks/results).
--small (CI) runs 4,000 signals so the harness cannot rot; it asserts that
every contender consumed its input, never a timing.
"""
import argparse
import datetime
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.request

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
import harness  # noqa: E402

from confluent_kafka import Consumer, Producer, TopicPartition  # noqa: E402
from confluent_kafka.admin import AdminClient, NewTopic  # noqa: E402

PEER_DIR = os.path.join(ROOT, "benchmarks", "peers", "kafka-streams")
PASSTHROUGH = os.path.join(os.path.dirname(harness.BIN), "benchmarks", "kafka_passthrough")
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def proc_usage(pid):
    """(peak RSS bytes, CPU seconds) of a live process."""
    peak = 0
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                peak = int(line.split()[1]) * 1024
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    cpu = (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
    return peak, cpu


def percentile(sorted_values, q):
    if not sorted_values:
        return None
    return sorted_values[min(len(sorted_values) - 1, int(q * len(sorted_values)))]


class Offsets:
    """A group's committed offsets on some topic-partitions."""

    def __init__(self, group, parts):
        self.parts = [TopicPartition(t, p) for t, p in parts]
        self.consumer = Consumer({"bootstrap.servers": harness.BOOTSTRAP, "group.id": group,
                                  "enable.auto.commit": False})

    def read(self):
        try:
            got = self.consumer.committed(self.parts, timeout=10)
        except Exception:  # the coordinator is loading or moving: no sample
            return None
        return {(tp.topic, tp.partition): max(tp.offset, 0) for tp in got}

    def close(self):
        self.consumer.close()


class Contender:
    name = ""

    def start(self, app, group, output):
        raise NotImplementedError

    def group(self, app):
        return app.name

    def stop(self, proc):
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


class Passthrough(Contender):
    name = "passthrough"

    def group(self, app):
        return f"{app.name}-pt"

    def start(self, app, group, output):
        topic = f"{app.name}.passthrough"
        admin = AdminClient({"bootstrap.servers": harness.BOOTSTRAP})
        futures = admin.create_topics([NewTopic(topic, app.partitions, 1)])
        futures[topic].result()
        log = open(os.path.join(app.workdir, "passthrough.log"), "ab")
        return subprocess.Popen([PASSTHROUGH, harness.BOOTSTRAP, ",".join(app.signal_topics), topic, group, "0"],
                                stdout=log, stderr=subprocess.STDOUT)


class Engine(Contender):
    """`demandcenter run` with the shipped config, on `threads` processing
    threads; a group, internal topics and state directory of its own."""

    def __init__(self, threads):
        self.threads = threads
        self.name = f"demandcenter run, {threads} thread" + ("s" if threads > 1 else "")

    def group(self, app):
        return f"{app.name}-t{self.threads}"

    def start(self, app, group, output):
        admin = AdminClient({"bootstrap.servers": harness.BOOTSTRAP})
        compact = {"cleanup.policy": "compact"}
        topics = [NewTopic(f"{group}-state-changelog", app.partitions, 1, config=compact),
                  NewTopic(f"{group}-identity-repartition", 1, 1),
                  NewTopic(f"{group}-account-repartition", app.partitions, 1)]
        for f in admin.create_topics(topics).values():
            try:
                f.result()
            except Exception:
                pass  # created by an earlier phase
        with open(app.config_path) as f:
            text = f.read()
        threads = f"  processing_threads: {harness.THREADS}\n"
        assert f"application_id: {app.name}\n" in text and threads in text
        text = text.replace(f"application_id: {app.name}\n", f"application_id: {group}\n", 1)
        text = text.replace(threads, f"  processing_threads: {self.threads}\n", 1)
        config = os.path.join(app.workdir, f"{group}.yaml")
        with open(config, "w") as f:
            f.write(text)
        log_path = os.path.join(app.workdir, f"{group}.log")
        port = harness.free_port()
        with open(log_path, "ab") as log:
            proc = subprocess.Popen([harness.BIN, "run", "--config", config, "--instance-id", "0", "--state-dir",
                                     self.state_dir(app, group), "--http-bind", f"127.0.0.1:{port}"],
                                    stdout=log, stderr=subprocess.STDOUT)
        proc.http_port, proc.log_path = port, log_path
        return proc

    def state_dir(self, app, group):
        return os.path.join(app.workdir, f"state-{group}")


class Peer(Contender):
    name = "Kafka Streams peer"

    def __init__(self, jar):
        self.jar = jar

    def group(self, app):
        return f"{app.name}-peer"

    def start(self, app, group, output):
        admin = AdminClient({"bootstrap.servers": harness.BOOTSTRAP})
        topics = [f"{app.name}.peer.transitions", f"{app.name}.peer.nba"]
        for f in admin.create_topics([NewTopic(t, app.partitions, 1) for t in topics]).values():
            try:
                f.result()
            except Exception:
                pass  # created by an earlier phase
        log = open(os.path.join(app.workdir, "peer.log"), "ab")
        return subprocess.Popen(
            ["java", "-Xmx1g", "-jar", self.jar, "--bootstrap-servers", harness.BOOTSTRAP, "--application-id", group,
             "--input-topics", ",".join(app.signal_topics), "--transitions-topic", topics[0], "--nba-topic", topics[1],
             "--state-dir", os.path.join(app.workdir, "peer-state"), "--commit-interval-ms", "100"],
            stdout=log, stderr=subprocess.STDOUT)


def wait_all_committed(offsets, ends, proc, timeout):
    """Samples the committed offsets every 50 ms until they reach `ends`:
    returns (time of the first commit, its committed total, time when done,
    the last usage sample of the process)."""
    deadline = time.time() + timeout
    first_at, first_total, usage = None, 0, None
    while time.time() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"exited with {proc.returncode} before consuming its input")
        now = time.time()
        got = offsets.read()
        try:
            usage = proc_usage(proc.pid)
        except OSError:
            pass
        if got:
            total = sum(got.values())
            if first_at is None and total > 0:
                first_at, first_total = now, total
            if all(got.get(tp, 0) >= end for tp, end in ends.items()):
                return first_at, first_total, now, usage
        time.sleep(0.05)
    raise AssertionError(f"input not consumed in {timeout} s")


def measure_throughput(contender, app, records, timeout):
    group = contender.group(app)
    ends = app.signal_ends()
    offsets = Offsets(group, ends.keys())
    started = time.time()
    proc = contender.start(app, group, None)
    try:
        first_at, first_total, done_at, usage = wait_all_committed(offsets, ends, proc, timeout)
    finally:
        contender.stop(proc)
        offsets.close()
    if first_total < records:
        seconds, counted = done_at - first_at, records - first_total
    else:  # all of it in the first commit seen (a small input): from the start
        seconds, counted = done_at - started, records
    peak, cpu = usage or (0, 0.0)
    return {"records": records, "seconds_to_first_commit": round(first_at - started, 2),
            "seconds": round(seconds, 3), "records_per_second": round(counted / max(seconds, 1e-3)),
            "records_per_second_from_start": round(records / max(done_at - started, 1e-3)),
            "peak_rss_mib": round(peak / (1 << 20), 1), "cpu_seconds_per_million": round(cpu * 1e6 / records, 1)}


def wait_ready(proc, timeout):
    """When the engine's /readyz first answers 200 (polled every 20 ms)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"exited with {proc.returncode} before it was ready")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{proc.http_port}/readyz", timeout=2) as r:
                if r.status == 200:
                    return time.time()
        except OSError:
            pass  # not listening yet, or 503 while restoring
        time.sleep(0.02)
    raise AssertionError(f"not ready in {timeout} s")


def restored_records(log_path, offset):
    """Changelog records the engine says it restored, in its log after `offset`."""
    with open(log_path, "rb") as f:
        f.seek(offset)
        text = f.read().decode(errors="replace")
    return sum(int(n) for n in re.findall(r"partition \d+: restored (\d+) changelog records", text))


def measure_restart(contender, app, timeout):
    """On the group and state of the throughput run: an engine is killed
    (kill -9) and started again on its local state; then stopped and started
    with its state directory wiped (a lost disk), so the time is the
    restore's, not the wait for a killed member's session to end: each time,
    the seconds from its start to /readyz and the changelog records it
    restored."""
    group = contender.group(app)

    def timed_start():
        at = os.path.getsize(proc.log_path) if proc else 0
        started = time.time()
        started_proc = contender.start(app, group, None)
        seconds = wait_ready(started_proc, timeout) - started
        records = restored_records(started_proc.log_path, at)
        return started_proc, {"seconds_to_ready": round(seconds, 2), "restored_records": records,
                              "restored_per_second": round(records / max(seconds, 1e-3))}

    proc = None
    proc, _ = timed_start()
    proc.kill()
    proc.wait()
    result = {}
    proc, result["local_state"] = timed_start()
    contender.stop(proc)
    shutil.rmtree(contender.state_dir(app, group))
    proc, result["empty_state"] = timed_start()
    contender.stop(proc)
    return result


def measure_latency(contender, make_app, path, rate, seconds, timeout):
    """A fresh app (topics and group of its own); the contender runs, then a
    paced producer sends rate*seconds signals; per record, send -> commit."""
    app = make_app("latency")
    try:
        group = contender.group(app)
        proc = contender.start(app, group, None)
        sent = {}
        lock = threading.Lock()
        parts = [(t, p) for t in app.signal_topics for p in range(app.partitions)]
        offsets = Offsets(group, parts)
        samples = []
        stop = threading.Event()

        def sample():
            while not stop.is_set():
                got = offsets.read()
                if got:
                    samples.append((time.time(), got))
                time.sleep(0.02)

        # Wait until the contender has joined and committed once, so start-up
        # is not counted as latency: a first record, then its commit.
        sampler = threading.Thread(target=sample)
        producer = Producer({"bootstrap.servers": harness.BOOTSTRAP, "linger.ms": 0, "enable.idempotence": True,
                             "partitioner": "murmur2_random"})
        lines = []
        with open(path, "rb") as f:
            for line in f:
                line = line.rstrip(b"\n")
                if line.strip():
                    lines.append(line)
        wanted = min(len(lines), max(1, int(rate * seconds)))
        warm = min(50, wanted)
        for line in lines[:warm]:
            topic, kwargs = app.placement(line)
            producer.produce(topic, **kwargs)
        producer.flush(30)
        warm_ends = app.signal_ends()
        warm_offsets = Offsets(group, warm_ends.keys())
        try:
            wait_all_committed(warm_offsets, warm_ends, proc, timeout)
        finally:
            warm_offsets.close()
        sampler.start()
        started = time.time()
        for i, line in enumerate(lines[warm:wanted]):
            ahead = started + i / rate - time.time()
            if ahead > 0:
                time.sleep(ahead)
            topic, kwargs = app.placement(line)
            now = time.time()

            def on_delivery(err, msg, now=now):
                if err is None:
                    with lock:
                        sent[(msg.topic(), msg.partition(), msg.offset())] = now

            while True:
                try:
                    producer.produce(topic, on_delivery=on_delivery, **kwargs)
                    break
                except BufferError:
                    producer.poll(0.01)
            producer.poll(0)
        producer.flush(30)
        ends = app.signal_ends()
        deadline = time.time() + timeout
        while time.time() < deadline:
            if samples and all(samples[-1][1].get(tp, 0) >= e for tp, e in ends.items()):
                break
            time.sleep(0.1)
        stop.set()
        sampler.join()
        offsets.close()
        contender.stop(proc)
        latencies = []
        for (topic, partition, offset), at in sent.items():
            for t, got in samples:
                if t >= at and got.get((topic, partition), 0) > offset:
                    latencies.append(t - at)
                    break
        latencies.sort()
        ms = lambda v: None if v is None else round(v * 1000, 1)  # noqa: E731
        return {"rate": round(rate), "records": len(sent), "measured": len(latencies),
                "p50_ms": ms(percentile(latencies, 0.50)), "p99_ms": ms(percentile(latencies, 0.99)),
                "p999_ms": ms(percentile(latencies, 0.999))}
    finally:
        app.cleanup()


def build_peer():
    """The peer's jar (Maven), or None with the reason."""
    if not os.path.isdir(PEER_DIR):
        return None, "benchmarks/peers/kafka-streams is missing"
    if shutil.which("mvn") is None or shutil.which("java") is None:
        return None, "mvn or java not found"
    subprocess.run(["mvn", "-q", "-B", "package", "-DskipTests"], cwd=PEER_DIR, check=True)
    target = os.path.join(PEER_DIR, "target")
    jars = sorted(j for j in os.listdir(target) if j.endswith(".jar") and not j.startswith("original-"))
    if not jars:
        raise AssertionError("the peer's build made no jar")
    return os.path.join(target, jars[-1]), None


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--signals", type=int, default=1_000_000)
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--partitions", type=int, default=12)
    parser.add_argument("--latency-seconds", type=float, default=30)
    parser.add_argument("--results", default=os.path.join(ROOT, "benchmarks", "results"))
    parser.add_argument("--small", action="store_true", help="4,000 signals, 5 s of latency: the CI check")
    parser.add_argument("--only", default="", help="a comma-separated subset of passthrough,run1,run2,peer "
                        "(written to DIR/<date>-<subset>.md and .json)")
    args = parser.parse_args()
    if args.small:
        args.signals, args.accounts, args.latency_seconds = 4000, 1000, 5

    started_broker = False
    if "DEMANDCENTER_BOOTSTRAP" not in os.environ:
        out = subprocess.run([os.path.join(ROOT, "deploy", "local", "kafka.sh"), "start"], check=True,
                             capture_output=True, text=True).stdout
        harness.BOOTSTRAP = out.strip().splitlines()[-1]
        started_broker = True
    wanted = {"passthrough", "run1", "run2", "peer"}
    if args.only:
        asked = set(args.only.split(","))
        if not asked <= wanted:
            parser.error(f"--only: unknown contender(s) {sorted(asked - wanted)}; choose from {sorted(wanted)}")
        wanted = asked
    jar, no_peer = build_peer() if "peer" in wanted else (None, None)

    def make_app(name):
        return harness.App(name, partitions=args.partitions, json_outputs=False, signal_topics=3)

    contenders = [c for key, c in (("passthrough", Passthrough()), ("run1", Engine(1)), ("run2", Engine(2)))
                  if key in wanted] + ([Peer(jar)] if jar else [])
    results = {"date": datetime.date.today().isoformat(), "signals": args.signals, "accounts": args.accounts,
               "partitions": args.partitions, "signal_topics": 3, "machine": f"{os.cpu_count()} cores",
               "build": subprocess.run(["git", "-C", ROOT, "describe", "--always", "--dirty"], capture_output=True,
                                       text=True).stdout.strip() or "unknown",
               "contenders": {}, "not_run": {}}
    if no_peer:
        results["not_run"]["Kafka Streams peer"] = no_peer
    app = make_app("contenders")
    try:
        path = app.generate(args.accounts, args.signals, 42)
        latency_path = os.path.join(app.workdir, "paced.jsonl")
        subprocess.run([harness.BIN, "generate", "--accounts", str(args.accounts), "--signals",
                        str(max(2000, args.signals // 2)), "--seed", "43", "--output", latency_path],
                       check=True, stderr=subprocess.DEVNULL)
        produced = app.produce(path)
        timeout = max(600, args.signals / 500)
        for c in contenders:
            r = measure_throughput(c, app, produced, timeout)
            r["latency"] = measure_latency(c, make_app, latency_path, r["records_per_second"] / 2,
                                           args.latency_seconds, timeout)
            if isinstance(c, Engine) and c.threads == 1:
                r["restart"] = measure_restart(c, app, timeout)
            results["contenders"][c.name] = r
            print(f"{c.name}: {r}", file=sys.stderr)
    finally:
        app.cleanup()
        if started_broker:
            subprocess.run([os.path.join(ROOT, "deploy", "local", "kafka.sh"), "stop"], capture_output=True)
    for c in contenders:
        r = results["contenders"][c.name]
        assert r["records"] == produced, f"{c.name} consumed {r['records']} of {produced}"
        assert r["latency"]["measured"] > 0, f"{c.name}: no latency measured"
        if "restart" in r:
            assert r["restart"]["empty_state"]["restored_records"] > 0, f"{c.name}: nothing restored"
    name = results["date"]
    if args.only:
        name += "-" + "-".join(sorted(wanted))
    if args.accounts != parser.get_default("accounts"):
        name += f"-{args.accounts}-accounts"
    write_results(results, args.results, name, args.small)


def write_results(results, directory, file_name, small):
    base = results["contenders"].get("passthrough")
    none = "–"
    lines = [f"# Contenders, {results['date']}", "",
             f"{results['signals']:,} signals from {results['accounts']:,} accounts on three signal topics, "
             f"{results['partitions']} partitions, one broker on loopback, {results['machine']}, "
             f"build {results.get('build', 'unknown')}; "
             "every contender exactly once with a 100 ms commit interval, one after the other on the same input.",
             "records/s: from the contender's first commit to its last (from its process start, with "
             "start-up and whatever it read before it first committed, in brackets).",
             "", "| contender | records/s | × passthrough | p50 ms | p99 ms | p99.9 ms (at half its rate) | "
             "peak RSS MiB | CPU s per 1M |", "|---|---|---|---|---|---|---|---|"]
    for name, r in results["contenders"].items():
        ratio = f"{r['records_per_second'] / base['records_per_second']:.2f}" if base else none
        lat = r["latency"]
        lines.append(f"| {name} | {r['records_per_second']:,} ({r['records_per_second_from_start']:,}) | {ratio} | {lat['p50_ms']} | {lat['p99_ms']} | "
                     f"{lat['p999_ms']} ({lat['rate']:,}/s) | {r['peak_rss_mib']} | {r['cpu_seconds_per_million']} |")
    for name, why in results["not_run"].items():
        lines.append(f"| {name} | not run: {why} | | | | | | |")
    for contender, r in results["contenders"].items():
        if "restart" not in r:
            continue
        lines += ["", f"Restart of {contender} on the state of its throughput run, after kill -9 on its local "
                  "state, after a stop with the state directory wiped (start to /readyz; changelog records "
                  "restored):", "",
                  "| state | seconds to ready | records restored | restored per second (start to ready) |",
                  "|---|---|---|---|"]
        for kind, label in (("local_state", "local (RocksDB kept)"), ("empty_state", "none (directory wiped)")):
            x = r["restart"][kind]
            lines.append(f"| {label} | {x['seconds_to_ready']} | {x['restored_records']:,} | "
                         f"{x['restored_per_second']:,} |")
    text = "\n".join(lines) + "\n"
    print(text)
    if small:
        return
    os.makedirs(directory, exist_ok=True)
    stem = os.path.join(directory, file_name)
    with open(stem + ".md", "w") as f:
        f.write(text)
    with open(stem + ".json", "w") as f:
        json.dump(results, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    main()
