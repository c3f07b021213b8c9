"""Helpers for the Kafka integration tests: topics, producing a generated
signal file exactly as `replay --partitions N` models it, running engine
instances, waiting on committed offsets, and reading outputs back with a
read_committed consumer.

Runs under Debian's /usr/bin/python3 with python3-confluent-kafka (the same
librdkafka 2.0.2 as the engine)."""

import errno
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request
from collections import defaultdict

from confluent_kafka import OFFSET_END, Consumer, KafkaError, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.environ.get("DEMANDCENTER_BIN", os.path.join(ROOT, "build", "demandcenter"))
BOOTSTRAP = os.environ.get("DEMANDCENTER_BOOTSTRAP", "127.0.0.1:9092")
PARTITIONS = 12
# Replicas of every topic a test creates: 1 on the one-node cluster, 3 (with
# min.insync.replicas 2) on the three-node one of the broker-fault tests.
REPLICATION = int(os.environ.get("DEMANDCENTER_IT_REPLICATION", "1"))
# kafka.processing_threads of every engine the tests start.
THREADS = int(os.environ.get("DEMANDCENTER_IT_THREADS", "1"))
OUTPUT_KINDS = ("nba", "routing", "prompts", "transitions", "identity_conflicts")


def murmur2(data: bytes) -> int:
    """Kafka's murmur2 (Java client default partitioner)."""
    m, r = 0x5BD1E995, 24
    length = len(data)
    h = (0x9747B28C ^ length) & 0xFFFFFFFF
    i = 0
    while length - i >= 4:
        k = data[i] | (data[i + 1] << 8) | (data[i + 2] << 16) | (data[i + 3] << 24)
        k = (k * m) & 0xFFFFFFFF
        k ^= k >> r
        k = (k * m) & 0xFFFFFFFF
        h = (h * m) & 0xFFFFFFFF
        h ^= k
        i += 4
    rest = length - i
    if rest == 3:
        h ^= data[i + 2] << 16
    if rest >= 2:
        h ^= data[i + 1] << 8
    if rest >= 1:
        h ^= data[i]
        h = (h * m) & 0xFFFFFFFF
    h ^= h >> 13
    h = (h * m) & 0xFFFFFFFF
    h ^= h >> 15
    return h


def partition_of(key: str, partitions: int) -> int:
    return (murmur2(key.encode()) & 0x7FFFFFFF) % partitions


class App:
    """One application (consumer group, topics, config) isolated by a prefix."""

    def __init__(self, name, partitions=PARTITIONS, json_outputs=True, signal_topics=1, keyless_at_random=False,
                 identity_scope=None):
        """signal_topics: 1 (every signal on one topic) or 3 (web, email and
        crm signals each on their own topic, as deployed). keyless_at_random:
        keyless signals produced without a partition (the producer's
        partitioner picks one at random; else where replay puts them).
        identity_scope: "partition" or "global" instead of the shipped
        config's."""
        self.name = f"{name}-{os.getpid()}-{random.randrange(1 << 30)}"
        self.partitions = partitions
        self.by_type = {}
        if signal_topics == 3:
            self.by_type = {k: f"{self.name}.signals.{k}" for k in ("web", "email", "crm")}
            self.signal_topics = list(self.by_type.values())
        else:
            self.signal_topics = [f"{self.name}.signals"]
        self.topics = {
            "signals": self.signal_topics[0],
            "dlq": f"{self.name}.dlq",
            "nba": f"{self.name}.nba",
            "routing": f"{self.name}.routing",
            "prompts": f"{self.name}.prompts",
            "transitions": f"{self.name}.transitions",
            "identity_conflicts": f"{self.name}.conflicts",
            "reps": f"{self.name}.reps",
        }
        self.changelog = f"{self.name}-state-changelog"
        self.keyless_at_random = keyless_at_random
        self.identity_scope = identity_scope
        # identity.scope global: the identity task's input and what it resolved
        # (created whatever the scope, as create-topics.py does).
        self.internal_topics = [f"{self.name}-identity-repartition", f"{self.name}-account-repartition"]
        self.workdir = tempfile.mkdtemp(prefix=f"dc-{name}-")
        self.config_path = os.path.join(self.workdir, "config.yaml")
        self.instances = {}
        self.mounts = []
        self.json_outputs = json_outputs
        self._write_config()
        self._create_topics()

    def _write_config(self):
        with open(os.path.join(ROOT, "deploy", "config", "demandcenter.yaml")) as f:
            text = f.read()
        head, _, _ = text.partition("\nkafka:")
        # Tests read outputs as JSON to compare them with replay's lines;
        # benchmarks keep the default (protobuf, prompts as JSON).
        outputs = [self.topics[k] for k in (OUTPUT_KINDS if self.json_outputs else ("prompts",))]
        text = head + f"""
kafka:
  bootstrap_servers: {BOOTSTRAP}
  commit_interval: 100ms
  processing_threads: {THREADS}
  topics:
    signals: [{', '.join(self.signal_topics)}]
    signals_by_type: {{{', '.join(f"{k}: {t}" for k, t in self.by_type.items())}}}
    dlq: {self.topics['dlq']}
    nba: {self.topics['nba']}
    routing: {self.topics['routing']}
    prompts: {self.topics['prompts']}
    transitions: {self.topics['transitions']}
    identity_conflicts: {self.topics['identity_conflicts']}
    reps: {self.topics['reps']}
  json_topics: [{', '.join(outputs)}]
state:
  dir: {self.workdir}/state
  dedup_window: 7d
  cache_accounts: 100000
"""
        if self.identity_scope:
            assert "\n  scope: global\n" in text, "the shipped config's identity.scope moved"
            text = text.replace("\n  scope: global\n", f"\n  scope: {self.identity_scope}\n", 1)
        text = text.replace("application_id: demandcenter", f"application_id: {self.name}", 1)
        with open(self.config_path, "w") as f:
            f.write(text)

    def _create_topics(self):
        admin = AdminClient({"bootstrap.servers": BOOTSTRAP})
        rf = REPLICATION
        isr = {"min.insync.replicas": "2"} if rf >= 3 else {}
        compact = {"cleanup.policy": "compact", **isr}
        new = [NewTopic(t, self.partitions, rf, config=isr) for k, t in self.topics.items()
               if k not in ("reps", "signals")]
        new += [NewTopic(t, self.partitions, rf, config=isr) for t in self.signal_topics]
        new.append(NewTopic(self.topics["reps"], 1, rf, config=compact))
        new.append(NewTopic(self.changelog, self.partitions, rf, config=compact))
        for t in self.internal_topics:
            new.append(NewTopic(t, 1 if t.endswith("-identity-repartition") else self.partitions, rf, config=isr))
        for topic, future in admin.create_topics(new, operation_timeout=30).items():
            future.result()

    # --- input -----------------------------------------------------------
    def generate(self, accounts, signals, seed, malformed=0.0):
        path = os.path.join(self.workdir, "signals.jsonl")
        subprocess.run([BIN, "generate", "--accounts", str(accounts), "--signals", str(signals),
                        "--seed", str(seed), "--malformed", str(malformed), "--output", path],
                       check=True, stderr=subprocess.DEVNULL)
        return path

    def placement(self, line):
        """The topic and produce() arguments of one signal line, keyed and
        partitioned as replay --partitions models it: murmur2 on the account
        id; records without one on murmur2(event_id) (a deterministic
        stand-in for the producer's random choice)."""
        key, event_id, topic = b"", None, self.signal_topics[0]
        try:
            obj = json.loads(line)
            key = (obj.get("account_id") or "").encode()
            event_id = obj.get("event_id") or obj.get("eventId")
            kind = str(obj.get("type", "")).split(".")[0]
            topic = self.by_type.get(kind, topic)
        except (ValueError, AttributeError):
            pass
        kwargs = {"value": line}
        if key:
            kwargs["key"] = key
        elif self.keyless_at_random:
            pass  # no key, no partition: the partitioner picks one at random
        else:
            ident = event_id if isinstance(event_id, str) and event_id else ""
            kwargs["partition"] = partition_of(ident, self.partitions) if ident else 0
        return topic, kwargs

    def produce(self, path, rate=None):
        """Produces every line to the signal topics, placed as `placement`
        says; `rate` signals a second when given (as they would arrive),
        else as fast as the producer goes."""
        producer = Producer({"bootstrap.servers": BOOTSTRAP, "partitioner": "murmur2_random",
                             "linger.ms": 5 if rate else 20, "enable.idempotence": True})
        started = time.time()
        count = 0
        with open(path, "rb") as f:
            for line in f:
                line = line.rstrip(b"\n")
                if not line.strip():
                    continue
                topic, kwargs = self.placement(line)
                while True:
                    try:
                        producer.produce(topic, **kwargs)
                        break
                    except BufferError:
                        producer.poll(0.1)
                count += 1
                producer.poll(0)
                ahead = started + count / rate - time.time() if rate else 0
                if ahead > 0:
                    time.sleep(ahead)
        assert producer.flush(60) == 0, "producer could not deliver every signal"
        return count

    def replay_to_file(self, path):
        """Runs replay over `path`; returns the path of its output lines."""
        out = os.path.join(self.workdir, "replay.jsonl")
        subprocess.run([BIN, "replay", "--config", self.config_path, "--input", path, "--output", out,
                        "--partitions", str(self.partitions)], check=True, stderr=subprocess.DEVNULL)
        return out

    def replay(self, path):
        expected = defaultdict(list)
        with open(self.replay_to_file(path)) as f:
            for line in f:
                rec = json.loads(line)
                expected[(rec["topic"], rec["key"])].append(rec["value"])
        return expected

    # --- engine instances -------------------------------------------------
    def start(self, instance="0", http_port=None):
        port = http_port or free_port()
        with open(os.path.join(self.workdir, f"instance-{instance}.log"), "ab") as log:
            proc = subprocess.Popen(
                [BIN, "run", "--config", self.config_path, "--instance-id", instance,
                 "--state-dir", os.path.join(self.workdir, "state"), "--http-bind", f"127.0.0.1:{port}"],
                stdout=log, stderr=subprocess.STDOUT)
        self.instances[instance] = (proc, port)
        return proc

    def kill(self, instance, sig=signal.SIGKILL):
        proc, _ = self.instances[instance]
        proc.send_signal(sig)
        if sig in (signal.SIGKILL, signal.SIGTERM):
            proc.wait(timeout=120)

    def stop_all(self):
        for instance, (proc, _) in list(self.instances.items()):
            if proc.poll() is None:
                proc.send_signal(signal.SIGCONT)
                proc.terminate()
                try:
                    proc.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()

    def metrics(self, instance):
        _, port = self.instances[instance]
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
            text = r.read().decode()
        values = {}
        for line in text.splitlines():
            if line and not line.startswith("#"):
                name, _, value = line.rpartition(" ")
                values[name] = float(value)
        return values

    def wait_ready(self, instance, timeout=120):
        """Waits until the instance's /readyz says every assigned partition is restored."""
        _, port = self.instances[instance]
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=5) as r:
                    if r.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.2)
        raise AssertionError(f"instance {instance} not ready after {timeout}s")

    def wait_for(self, condition, what, timeout=120):
        """Polls `condition` (tolerating an instance not answering yet)
        until it holds."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                if condition():
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise AssertionError(f"waited {timeout}s for {what}")

    def log(self, instance):
        with open(os.path.join(self.workdir, f"instance-{instance}.log"), errors="replace") as f:
            return f.read()

    # --- progress and outputs ---------------------------------------------
    def end_offsets(self, topic):
        """High watermarks of every partition (retried while leaders move,
        e.g. around a broker restart). Each attempt takes a fresh client: a
        client that met a dead leader keeps asking it until its next
        metadata refresh (5 min)."""
        from confluent_kafka import KafkaException
        for attempt in range(60):
            c = Consumer({"bootstrap.servers": BOOTSTRAP, "group.id": f"{self.name}-probe",
                          "isolation.level": "read_uncommitted"})
            try:
                # offsets_for_times at OFFSET_END, not get_watermark_offsets:
                # with librdkafka 2.0.2 the latter waits forever on a leader
                # that does not answer, whatever its timeout.
                count = 1 if topic.endswith("-identity-repartition") else self.partitions
                asked = [TopicPartition(topic, p, OFFSET_END) for p in range(count)]
                got = c.offsets_for_times(asked, timeout=10)
                if all(tp.error is None and tp.offset >= 0 for tp in got):
                    return {tp.partition: tp.offset for tp in got}
            except KafkaException:
                pass
            finally:
                c.close()
            time.sleep(0.5)
        raise AssertionError(f"no end offsets for {topic} after 60 attempts")

    def input_topics(self):
        """The topics the group consumes: the signal topics, and with
        identity.scope global the internal ones."""
        return self.signal_topics + self.internal_topics

    def signal_ends(self):
        """The end offsets of the signal topics, by (topic, partition)."""
        return {(t, p): end for t in self.signal_topics for p, end in self.end_offsets(t).items()}

    def input_ends(self):
        """The end offsets of every topic the group consumes."""
        return {(t, p): end for t in self.input_topics() for p, end in self.end_offsets(t).items()}

    def committed(self):
        """The group's committed offsets on the signal topics, by (topic,
        partition) (retried while the group coordinator moves or loads)."""
        from confluent_kafka import KafkaException
        # A restarted broker loads the group's offsets before it answers:
        # on a busy machine that took more than 30 s.
        deadline = time.time() + 180
        while True:
            c = Consumer({"bootstrap.servers": BOOTSTRAP, "group.id": self.name})
            try:
                parts = c.committed([TopicPartition(t, p) for t in self.input_topics() for p in range(self.partitions)
                                     if p == 0 or not t.endswith("-identity-repartition")], timeout=10)
                return {(tp.topic, tp.partition): tp.offset for tp in parts}
            except KafkaException as e:
                if time.time() > deadline:
                    raise AssertionError(f"could not read the group's committed offsets for 180 s: {e}")
                time.sleep(0.5)
            finally:
                c.close()

    def records_after(self, committed, ends):
        """Whether a committed record lies at or past the group's offset on
        any of `ends`' partitions (read read_committed up to each end)."""
        todo = [TopicPartition(t, p, max(0, committed.get((t, p), 0))) for (t, p), e in ends.items()
                if e > max(0, committed.get((t, p), 0))]
        if not todo:
            return False
        c = Consumer({"bootstrap.servers": BOOTSTRAP, "group.id": f"{self.name}-peek", "enable.auto.commit": False,
                      "isolation.level": "read_committed", "enable.partition.eof": True})
        try:
            c.assign(todo)
            open_parts = {(tp.topic, tp.partition) for tp in todo}
            deadline = time.time() + 30
            while open_parts:
                if time.time() > deadline:
                    return True  # not read to the end: count it as not done
                m = c.poll(1)
                if m is None:
                    continue
                if m.error():
                    if m.error().code() == KafkaError._PARTITION_EOF:
                        # At the end, unless a transaction still open holds
                        # the consumer before it (its position steps past
                        # commit markers only).
                        at = c.position([TopicPartition(m.topic(), m.partition())])[0].offset
                        if at < ends[(m.topic(), m.partition())]:
                            return True
                        open_parts.discard((m.topic(), m.partition()))
                        continue
                    raise AssertionError(f"reading {m.topic()}[{m.partition()}]: {m.error()}")
                return True
            return False
        finally:
            c.close()

    def wait_consumed(self, timeout=600, check=None):
        """Waits until the group's committed offsets reach the end of the
        signal topic (and of the internal ones, whose ends move until the
        last signal has gone through them). `check` is called while waiting
        (e.g. to kill)."""
        ends = self.signal_ends()
        deadline = time.time() + timeout
        while time.time() < deadline:
            committed = self.committed()
            if all(committed.get(p, -1) >= ends[p] for p in ends):
                # Watermarks are sent while anything moves: the internal
                # topics are done when two looks a second apart agree and
                # no committed record lies past the group's offsets (their
                # ends are commit markers: one per instance that wrote to a
                # partition, so the count is not known).
                inner = self.input_ends()
                time.sleep(1)
                committed = self.committed()
                if inner == self.input_ends() and not self.records_after(committed, inner):
                    return
                continue
            if check:
                check(committed, ends)
            time.sleep(0.5)
        raise AssertionError(f"signals not consumed in {timeout}s: committed {self.committed()} ends {ends}")

    def wait_committed_share(self, share, timeout=600):
        """Waits until the group has committed `share` (0..1) of the signals."""
        total = sum(self.signal_ends().values())
        deadline = time.time() + timeout
        while sum(max(0, o) for o in self.committed().values()) < share * total:
            if time.time() > deadline:
                raise AssertionError(f"less than {share:.0%} of the signals committed after {timeout}s")
            time.sleep(0.1)

    def read_topic(self, topic, timeout=120, visit=None):
        """Every committed record of `topic`, read with read_committed until the
        consumer's position reaches the high watermark of every partition —
        that is, until no transaction is pending any more (a killed
        instance's open transaction is aborted by the broker after the
        transaction timeout). With `visit`, each record is handed to it
        instead of being kept (for outputs too many to hold)."""
        c = Consumer({"bootstrap.servers": BOOTSTRAP, "group.id": f"{self.name}-reader-{random.random()}",
                      "isolation.level": "read_committed", "enable.auto.commit": False,
                      "auto.offset.reset": "earliest", "enable.partition.eof": True})
        ends = self.end_offsets(topic)
        parts = [TopicPartition(topic, p, 0) for p in range(self.partitions)]
        c.assign(parts)
        records = []
        deadline = time.time() + timeout
        while True:
            m = c.poll(0.5)
            if m is not None and not m.error():
                if visit:
                    visit(m)
                else:
                    records.append(m)
                deadline = time.time() + timeout
                continue
            if m is not None and m.error().code() != KafkaError._PARTITION_EOF:
                raise AssertionError(f"reading {topic}: {m.error()}")
            positions = {tp.partition: tp.offset for tp in c.position(parts)}
            if all(positions.get(p, -1) >= e for p, e in ends.items() if e > 0):
                break
            if time.time() > deadline:
                raise AssertionError(f"reading {topic}: positions {positions} short of the ends {ends} "
                                     f"after {timeout}s")
        c.close()
        return records

    def outputs(self):
        got = defaultdict(list)
        for kind in OUTPUT_KINDS:
            topic = self.topics[kind]
            for m in self.read_topic(topic):
                got[(topic, m.key().decode())].append(json.loads(m.value()))
        return got

    # --- the local disk ------------------------------------------------------
    def mount_small_disk(self, megabytes):
        """Puts the state directory on a tmpfs of `megabytes` (a small disk
        that can be filled). Needs root, or sudo without a password."""
        state = os.path.join(self.workdir, "state")
        os.makedirs(state, exist_ok=True)
        sudo = [] if os.geteuid() == 0 else ["sudo", "-n"]
        subprocess.run(sudo + ["mount", "-t", "tmpfs", "-o", f"size={megabytes}m", "tmpfs", state], check=True)
        self.mounts.append((sudo, state))
        return state

    def fill_disk(self, directory):
        """Writes a ballast file until the file system under `directory` is
        full; returns its path (delete it to free the space)."""
        ballast = os.path.join(directory, "ballast")
        chunk = b"\0" * (1 << 20)
        with open(ballast, "wb", buffering=0) as f:
            try:
                while True:
                    f.write(chunk)
            except OSError as e:
                if e.errno != errno.ENOSPC:
                    raise
        return ballast

    def cleanup(self):
        self.stop_all()
        for sudo, path in self.mounts:
            subprocess.run(sudo + ["umount", "-l", path], check=False)
        shutil.rmtree(self.workdir, ignore_errors=True)


def free_port():
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def diff(expected, got, limit=5):
    """A readable difference between two {(topic, key): [values]} maps."""
    problems = []
    for k in sorted(set(expected) | set(got)):
        e, g = expected.get(k, []), got.get(k, [])
        if e != g:
            problems.append(f"{k}: expected {len(e)} records, got {len(g)}"
                            + (f"; first difference at #{next(i for i in range(min(len(e), len(g))) if e[i] != g[i])}"
                               if any(e[i] != g[i] for i in range(min(len(e), len(g)))) else ""))
            if len(problems) >= limit:
                break
    return problems


def count(records):
    return sum(len(v) for v in records.values())


class AppTestCase(unittest.TestCase):
    """Tests of one or more Apps: each is cleaned up after a passing test and
    kept for inspection after a failing one (or with DEMANDCENTER_IT_KEEP)."""

    def setUp(self):
        self.apps = []

    def tearDown(self):
        result = self._outcome.result
        failed = any(test is self for test, _ in result.failures + result.errors)
        for app in self.apps:
            if failed or os.environ.get("DEMANDCENTER_IT_KEEP"):
                app.stop_all()
                print(f"\nkept {app.workdir} for inspection", file=sys.stderr)
            else:
                app.cleanup()

    def assertOutputsEqual(self, app, expected):
        got = app.outputs()
        problems = diff(expected, got)
        self.assertEqual(problems, [], f"{count(got)} outputs vs {count(expected)} expected")
        self.assertEqual(count(got), count(expected))
