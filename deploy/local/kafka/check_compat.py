#!/usr/bin/python3
"""Checks that the system librdkafka works against a Kafka cluster for what
Demand Center needs: admin metadata and topic creation, compacted topics,
idempotent produce, consumer groups with the range assignor, exactly-once
consume->produce transactions (init_transactions, send_offsets_to_transaction
with the consumer's group metadata - KIP-447 -, commit and abort), zombie
fencing, and read_committed consumers.

Uses Debian's python3-confluent-kafka, which binds the system librdkafka (the
one the engine links): run it with /usr/bin/python3, not a virtualenv's python.

    deploy/local/kafka.sh start [--brokers 3]
    /usr/bin/python3 deploy/local/kafka/check_compat.py --bootstrap 127.0.0.1:9092
    deploy/local/kafka.sh stop

Prints one line per check and "N passed, N failed"; exits 0 only when every
check passed. --during-eos CMD runs CMD (e.g. a broker restart) while the
transactions go on. --debug protocol writes librdkafka's protocol log (request
versions) to a file.
"""

import argparse
import logging
import os
import signal
import subprocess
import sys
import time
import uuid

try:
    from confluent_kafka import (Consumer, KafkaError, KafkaException, Producer,
                                 TopicPartition, libversion, version)
    from confluent_kafka.admin import AdminClient, ConfigResource, NewTopic
except ImportError:
    sys.exit("check_compat: needs Debian's python3-confluent-kafka (apt-get install python3-confluent-kafka) "
             "run with /usr/bin/python3")

OFFSET_INVALID = -1001


class Check:
    def __init__(self, args):
        self.args = args
        self.bootstrap = args.bootstrap
        self.run = uuid.uuid4().hex[:8]
        self.topic_in = f"compat-{self.run}-in"
        self.topic_out = f"compat-{self.run}-out"
        self.topic_changelog = f"compat-{self.run}-changelog"
        self.group = f"compat-{self.run}-app"
        self.partitions = 3
        self.n = args.messages
        self.passed = 0
        self.failed = 0
        self.errors = []  # errors reported by librdkafka's error_cb
        self.log = None
        if args.debug:
            self.log = logging.getLogger("librdkafka")
            handler = logging.FileHandler(args.debug_file, mode="w")
            handler.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
            self.log.addHandler(handler)
            self.log.setLevel(logging.DEBUG)

    # -- helpers

    def conf(self, **extra):
        c = {"bootstrap.servers": self.bootstrap, "error_cb": self.on_error}
        if self.log:
            c["debug"] = self.args.debug
            c["logger"] = self.log
        c.update({k.replace("_", "."): v for k, v in extra.items()})
        return c

    def on_error(self, err):
        self.errors.append(str(err))

    def step(self, name, fn):
        t0 = time.monotonic()
        try:
            detail = fn()
        except Exception as e:  # noqa: BLE001 - every failure is reported
            self.failed += 1
            extra = ""
            if self.errors:
                extra = "; client errors: " + " | ".join(dict.fromkeys(self.errors[-5:]))
            print(f"FAIL {name}: {type(e).__name__}: {e}{extra}", flush=True)
            self.errors.clear()
            return False
        self.passed += 1
        print(f"ok   {name} ({time.monotonic() - t0:.1f}s){': ' + detail if detail else ''}", flush=True)
        self.errors.clear()
        return True

    def consumer(self, group, **extra):
        base = dict(group_id=group, enable_auto_commit=False, auto_offset_reset="earliest",
                    isolation_level="read_committed", enable_partition_eof=True)
        base.update(extra)
        return Consumer(self.conf(**base))

    def read_all(self, topic, isolation, timeout=30):
        """Reads a whole topic from the beginning; returns the records' values."""
        c = self.consumer(f"compat-{self.run}-reader-{uuid.uuid4().hex[:6]}", isolation_level=isolation)
        try:
            c.assign([TopicPartition(topic, p, 0) for p in range(self.partitions)])
            values, eof = [], set()
            deadline = time.monotonic() + timeout
            while len(eof) < self.partitions:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{topic}: only {len(eof)}/{self.partitions} partitions read to the end")
                m = c.poll(0.5)
                if m is None:
                    continue
                if m.error():
                    if m.error().code() == KafkaError._PARTITION_EOF:
                        eof.add(m.partition())
                        continue
                    raise KafkaException(m.error())
                eof.discard(m.partition())
                values.append(m.value())
            return values
        finally:
            c.close()

    # -- checks

    def metadata(self):
        admin = AdminClient(self.conf())
        md = admin.list_topics(timeout=10)
        self.brokers = len(md.brokers)
        if self.brokers < 1:
            raise RuntimeError("no brokers in the metadata")
        self.rf = min(3, self.brokers)
        return (f"cluster id {md.cluster_id}, controller {md.controller_id}, "
                f"{self.brokers} broker(s): {', '.join(str(b) for b in md.brokers.values())}")

    def create_topics(self):
        admin = AdminClient(self.conf())
        topics = [NewTopic(self.topic_in, self.partitions, self.rf),
                  NewTopic(self.topic_out, self.partitions, self.rf),
                  NewTopic(self.topic_changelog, self.partitions, self.rf,
                           config={"cleanup.policy": "compact"})]
        for name, f in admin.create_topics(topics, operation_timeout=30).items():
            f.result(timeout=40)
        # Wait until every partition has a leader in the metadata.
        deadline = time.monotonic() + 30
        while True:
            md = admin.list_topics(timeout=10)
            ready = all(t in md.topics and len(md.topics[t].partitions) == self.partitions and
                        all(p.leader >= 0 for p in md.topics[t].partitions.values())
                        for t in (self.topic_in, self.topic_out, self.topic_changelog))
            if ready:
                break
            if time.monotonic() > deadline:
                raise TimeoutError("created topics have no leaders after 30s")
            time.sleep(0.2)
        res = ConfigResource(ConfigResource.Type.TOPIC, self.topic_changelog)
        configs = admin.describe_configs([res])[res].result(timeout=20)
        policy = configs["cleanup.policy"].value
        if policy != "compact":
            raise RuntimeError(f"{self.topic_changelog} has cleanup.policy={policy}")
        return (f"{self.topic_in}, {self.topic_out}, {self.topic_changelog} "
                f"({self.partitions} partitions, replication {self.rf}; changelog cleanup.policy=compact)")

    def produce_input(self):
        p = Producer(self.conf(enable_idempotence=True, acks="all", linger_ms=5))
        failures = []

        def dr(err, msg):
            if err:
                failures.append(str(err))

        for i in range(self.n):
            p.produce(self.topic_in, key=f"account-{i % 40}", value=f"signal-{i}", on_delivery=dr)
            p.poll(0)
        left = p.flush(30)
        if left or failures:
            raise RuntimeError(f"{left} undelivered, delivery errors: {failures[:3]}")
        c = self.consumer(f"compat-{self.run}-wm")
        try:
            total = sum(c.get_watermark_offsets(TopicPartition(self.topic_in, p), timeout=10)[1]
                        for p in range(self.partitions))
        finally:
            c.close()
        if total != self.n:
            raise RuntimeError(f"high watermarks add up to {total}, expected {self.n}")
        return f"{self.n} records, idempotent producer, acks=all; ListOffsets high watermarks add up to {total}"

    def range_group(self):
        """Two members of one group with the range assignor share the partitions."""
        group = f"compat-{self.run}-range"
        members = [self.consumer(group, partition_assignment_strategy="range", session_timeout_ms=10000,
                                 heartbeat_interval_ms=1000, enable_partition_eof=False) for _ in range(2)]
        try:
            for m in members:
                m.subscribe([self.topic_in])
            deadline = time.monotonic() + 45
            while True:
                for m in members:
                    m.poll(0.2)
                got = [sorted(tp.partition for tp in m.assignment()) for m in members]
                flat = sorted(p for a in got for p in a)
                if all(got) and flat == list(range(self.partitions)):
                    break
                if time.monotonic() > deadline:
                    raise TimeoutError(f"assignments after 45s: {got}")
            return f"range assignment of {self.partitions} partitions to 2 members: {got}"
        finally:
            for m in members:
                m.close()

    def eos(self):
        consumer = self.consumer(self.group, partition_assignment_strategy="range", session_timeout_ms=10000,
                                 heartbeat_interval_ms=1000, enable_partition_eof=False,
                                 enable_auto_offset_store=False)
        producer = Producer(self.conf(transactional_id=f"compat-{self.run}-txn", enable_idempotence=True,
                                      transaction_timeout_ms=30000, linger_ms=5))
        self.txn_producer = producer
        t0 = time.monotonic()
        producer.init_transactions(30)
        init_s = time.monotonic() - t0
        consumer.subscribe([self.topic_in])
        done, commits, aborted = 0, 0, 0
        during = None  # the --during-eos command, started after the first commit
        batch = 5 if self.args.during_eos else 100
        deadline = time.monotonic() + 180
        try:
            while done < self.n:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"processed {done}/{self.n} in 180s")
                msgs = consumer.consume(batch, 1.0)
                msgs = [m for m in msgs if not m.error()]
                if not msgs:
                    continue
                producer.begin_transaction()
                for m in msgs:
                    producer.produce(self.topic_out, key=m.key(), value=b"out-" + m.value())
                    producer.produce(self.topic_changelog, key=m.key(), value=b"state-after-" + m.value())
                positions = consumer.position(consumer.assignment())
                producer.send_offsets_to_transaction(positions, consumer.consumer_group_metadata(), 30)
                if aborted == 0:
                    # The first batch is aborted, then processed again from the committed offsets.
                    for _ in range(5):
                        producer.produce(self.topic_out, key=b"x", value=b"ABORTED")
                    producer.flush(30)  # abort_transaction would purge unsent records
                    producer.abort_transaction(30)
                    aborted += 1
                    committed = consumer.committed(consumer.assignment(), timeout=10)
                    for tp in committed:
                        consumer.seek(TopicPartition(tp.topic, tp.partition,
                                                     tp.offset if tp.offset >= 0 else 0))
                    continue
                producer.commit_transaction(60)
                commits += 1
                done += len(msgs)
                if self.args.during_eos:
                    if during is None:
                        print(f"     running during the transactions: {self.args.during_eos}", flush=True)
                        during = subprocess.Popen(self.args.during_eos, shell=True, stdout=subprocess.DEVNULL)
                    if during.poll() is None:
                        time.sleep(0.1)  # keep transactions going while the command runs
            if during is not None and during.wait(120) != 0:
                raise RuntimeError(f"--during-eos command exited with {during.returncode}")
            # The group's committed offsets (written by the transactions) are the input's end.
            committed = consumer.committed([TopicPartition(self.topic_in, p) for p in range(self.partitions)],
                                           timeout=10)
            total = sum(tp.offset for tp in committed)
            if total != self.n:
                raise RuntimeError(f"committed offsets add up to {total}, expected {self.n}")
        finally:
            consumer.close()
        return (f"init_transactions {init_s:.1f}s; {done} records in {commits} committed transactions "
                f"(+1 aborted and redone); group offsets committed via send_offsets_to_transaction add up to {total}")

    def read_committed(self):
        values = self.read_all(self.topic_out, "read_committed")
        if b"ABORTED" in values:
            raise RuntimeError("read_committed consumer saw a record of an aborted transaction")
        expected = {f"out-signal-{i}".encode() for i in range(self.n)}
        if len(values) != self.n or set(values) != expected:
            raise RuntimeError(f"read {len(values)} records ({len(set(values))} distinct), expected exactly {self.n}")
        raw = self.read_all(self.topic_out, "read_uncommitted")
        if raw.count(b"ABORTED") != 5:
            raise RuntimeError(f"read_uncommitted saw {raw.count(b'ABORTED')} aborted records, expected 5")
        changelog = self.read_all(self.topic_changelog, "read_committed")
        if len(changelog) != self.n:
            raise RuntimeError(f"changelog has {len(changelog)} committed records, expected {self.n}")
        return (f"read_committed: exactly {len(values)} records, none aborted; read_uncommitted: {len(raw)} "
                f"(incl. 5 aborted); compacted changelog: {len(changelog)} committed records")

    def fencing(self):
        tid = f"compat-{self.run}-zombie"
        zombie = Producer(self.conf(transactional_id=tid, transaction_timeout_ms=30000))
        zombie.init_transactions(30)
        zombie.begin_transaction()
        zombie.produce(self.topic_out, key=b"z", value=b"ZOMBIE")
        zombie.flush(10)
        successor = Producer(self.conf(transactional_id=tid, transaction_timeout_ms=30000))
        successor.init_transactions(30)  # fences the zombie and aborts its open transaction
        try:
            zombie.commit_transaction(30)
        except KafkaException as e:
            err = e.args[0]
            if not err.fatal():
                raise RuntimeError(f"the zombie's commit failed, but not fatally: {err}")
            fenced = err.str()
        else:
            raise RuntimeError("the fenced producer could commit")
        successor.begin_transaction()
        successor.produce(self.topic_out, key=b"s", value=b"SUCCESSOR")
        successor.commit_transaction(30)
        values = self.read_all(self.topic_out, "read_committed")
        if b"ZOMBIE" in values or values.count(b"SUCCESSOR") != 1:
            raise RuntimeError("fenced producer's record visible, or successor's missing")
        return f"the fenced producer's commit failed fatally ({fenced}); the successor committed"

    def cleanup(self):
        admin = AdminClient(self.conf())
        for name, f in admin.delete_topics([self.topic_in, self.topic_out, self.topic_changelog],
                                           operation_timeout=30).items():
            f.result(timeout=40)
        return "deleted the check's topics"

    def main(self):
        print(f"confluent-kafka {version()[0]}, librdkafka {libversion()[0]}, bootstrap {self.bootstrap}", flush=True)
        ok = self.step("admin metadata", self.metadata)
        ok = ok and self.step("create topics (one compacted), describe configs", self.create_topics)
        ok = ok and self.step("idempotent produce, watermarks", self.produce_input)
        ok = ok and self.step("consumer group, range assignor", self.range_group)
        ok = ok and self.step("transactions: consume->produce, send_offsets_to_transaction, abort, commit", self.eos)
        ok = ok and self.step("read_committed consumers", self.read_committed)
        ok = ok and self.step("zombie fencing", self.fencing)
        if not self.args.keep:
            self.step("delete topics", self.cleanup)
        print(f"{self.passed} passed, {self.failed} failed", flush=True)
        return 0 if self.failed == 0 else 1


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bootstrap", default="127.0.0.1:9092")
    ap.add_argument("--messages", type=int, default=300)
    ap.add_argument("--timeout", type=int, default=300, help="give up after this many seconds")
    ap.add_argument("--keep", action="store_true", help="keep the check's topics")
    ap.add_argument("--during-eos", default="", metavar="CMD",
                    help="shell command to run while the transactions go on, "
                         "e.g. 'deploy/local/kafka.sh restart-broker 2' (use with --messages 1000)")
    ap.add_argument("--debug", default="", help="librdkafka debug contexts, e.g. protocol")
    ap.add_argument("--debug-file", default="check_compat.debug.log")
    args = ap.parse_args()

    def timed_out(*_):
        print(f"FAIL timed out after {args.timeout}s (the client hung: see --debug protocol)", flush=True)
        os._exit(1)

    signal.signal(signal.SIGALRM, timed_out)
    signal.alarm(args.timeout)
    sys.exit(Check(args).main())


if __name__ == "__main__":
    main()
