"""Broker faults on a three-node cluster (`deploy/local/kafka.sh start
--brokers 3`; DEMANDCENTER_BOOTSTRAP names it, DEMANDCENTER_IT_REPLICATION=3
gives every test topic three replicas and min.insync.replicas 2).

Each test takes one broker away from a running engine in its own way and
ends, once the broker is back, with the committed outputs equal to
`replay --partitions 12` of the same signals: nothing lost, nothing twice.
The engine process is never restarted: it rides each fault out."""

import os
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

KAFKA_SH = os.path.join(harness.ROOT, "deploy", "local", "kafka.sh")
SIGNALS = int(os.environ.get("DEMANDCENTER_IT_FAULT_SIGNALS", "30000"))
# Longer than the brokers' session with the controller (broker.session.timeout.ms,
# 9 s) and the engine's consumer session (10 s).
FROZEN_SECONDS = 15


def java_hash(text):
    """Java's String.hashCode, as a signed 32-bit int."""
    h = 0
    data = text.encode("utf-16-be")
    for i in range(0, len(data), 2):
        h = (31 * h + (data[i] << 8 | data[i + 1])) & 0xFFFFFFFF
    return h - (1 << 32) if h >= 1 << 31 else h


def coordinator_partition(key, partitions):
    """The partition of __transaction_state (or __consumer_offsets) whose
    leader coordinates `key`: Utils.abs(key.hashCode) % partitions."""
    h = java_hash(key)
    return (0 if h == -(1 << 31) else abs(h)) % partitions


def leaders_of(topic):
    """The leader of each partition of `topic`, by partition."""
    from confluent_kafka.admin import AdminClient
    admin = AdminClient({"bootstrap.servers": harness.BOOTSTRAP})
    meta = admin.list_topics(topic=topic, timeout=30).topics[topic]
    if meta.error is not None:
        raise AssertionError(f"no metadata for {topic}: {meta.error}")
    return {p: m.leader for p, m in meta.partitions.items()}


def kafka_sh(*args):
    subprocess.run([KAFKA_SH, *args], check=True, stdout=subprocess.DEVNULL)


class BrokerFaultTest(harness.AppTestCase):
    def setUp(self):
        super().setUp()
        if harness.REPLICATION < 3:
            self.fail("the broker-fault tests need DEMANDCENTER_IT_REPLICATION=3 on a three-node cluster")

    def fault_app(self, name, seed):
        app = harness.App(name)
        self.apps.append(app)
        path = app.generate(SIGNALS // 10, SIGNALS, seed)
        expected = app.replay(path)
        self.assertGreater(harness.count(expected), 0)
        app.produce(path)
        return app, expected

    def coordinator(self, internal_topic, key):
        """The node leading the coordinator of `key` (node I has node.id I)."""
        leaders = leaders_of(internal_topic)
        node = leaders[coordinator_partition(key, len(leaders))]
        self.assertIn(node, (1, 2, 3))
        return node

    def assertStillRunning(self, app):
        proc, _ = app.instances["0"]
        self.assertIsNone(proc.poll(), "the engine must ride the fault out, not exit")

    def test_kill_9_the_transaction_coordinators_broker(self):
        app, expected = self.fault_app("txncoordinator", seed=41)
        app.start("0")
        app.wait_committed_share(0.3)
        node = self.coordinator("__transaction_state", f"{app.name}-0")
        kafka_sh("signal-broker", str(node), "KILL")
        try:
            # Two brokers still make min.insync.replicas: the coordinator
            # moves, and the engine commits on without a restart.
            app.wait_committed_share(0.6)
            self.assertNotEqual(self.coordinator("__transaction_state", f"{app.name}-0"), node)
        finally:
            kafka_sh("start")  # brings the killed node back
        app.wait_consumed()
        self.assertStillRunning(app)
        self.assertOutputsEqual(app, expected)

    def test_a_broker_frozen_past_its_session_timeout(self):
        app, expected = self.fault_app("frozenbroker", seed=43)
        app.start("0")
        app.wait_committed_share(0.3)
        node = self.coordinator("__consumer_offsets", app.name)  # the group coordinator's broker
        kafka_sh("signal-broker", str(node), "STOP")
        try:
            # The fault's length, not a synchronisation. Nothing here asks
            # Kafka anything meanwhile: a fresh client may wait on the frozen
            # node for its whole request timeout (60 s).
            time.sleep(FROZEN_SECONDS)
        finally:
            kafka_sh("signal-broker", str(node), "CONT")  # wakes up fenced, with stale leaderships
        app.wait_consumed()
        self.assertStillRunning(app)
        self.assertOutputsEqual(app, expected)


if __name__ == "__main__":
    unittest.main(verbosity=2)
