"""deploy/kafka/create-topics.py against a real broker
(DEMANDCENTER_BOOTSTRAP, default 127.0.0.1:9092; the test fails when it does
not answer): every topic of a config created with the partitions, replication
and configs asked for; a second run creates nothing; an existing topic that
does not fit is an error; bad config paths and unreachable clusters are told
plainly within the timeout."""

import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import unittest

import yaml
from confluent_kafka.admin import AdminClient, ConfigResource, NewTopic

import support

SCRIPT = os.path.join(support.DEPLOY, "kafka", "create-topics.py")
BOOTSTRAP = os.environ.get("DEMANDCENTER_BOOTSTRAP", "127.0.0.1:9092")
PARTITIONS = 3
DLQ_RETENTION_MS = 3 * 86_400_000


def run(*args, timeout=60):
    started = time.monotonic()
    r = subprocess.run(["/usr/bin/python3", SCRIPT, *args], capture_output=True, text=True, timeout=timeout)
    return r, time.monotonic() - started


def write_config(directory, prefix):
    """The default config with its application_id and topics prefixed."""
    with open(os.path.join(support.DEPLOY, "config", "demandcenter.yaml"), encoding="utf-8") as f:
        config = yaml.safe_load(f)
    config["application_id"] = prefix
    topics = config["kafka"]["topics"]
    topics["signals"] = [f"{prefix}.{t}" for t in topics["signals"]]
    topics["signals_by_type"] = {k: f"{prefix}.{v}" for k, v in topics["signals_by_type"].items()}
    for key in ("dlq", "nba", "routing", "prompts", "transitions", "identity_conflicts", "reps"):
        topics[key] = f"{prefix}.{topics[key]}"
    config["kafka"]["json_topics"] = [f"{prefix}.{t}" for t in config["kafka"]["json_topics"]]
    config["kafka"]["bootstrap_servers"] = BOOTSTRAP
    path = os.path.join(directory, f"{prefix}.yaml")
    with open(path, "w", encoding="utf-8") as f:
        yaml.safe_dump(config, f)
    return path, config


def expected_topics(config):
    t = config["kafka"]["topics"]
    return set(t["signals"]) | {t[k] for k in ("dlq", "nba", "routing", "prompts", "transitions",
                                               "identity_conflicts", "reps")} | {
        f"{config['application_id']}-state-changelog", f"{config['application_id']}-identity-repartition",
        f"{config['application_id']}-account-repartition"}


class CreateTopicsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.admin = AdminClient({"bootstrap.servers": BOOTSTRAP})
        try:
            cls.admin.list_topics(timeout=10)
        except Exception as e:  # noqa: BLE001 - any failure means no broker
            raise AssertionError(f"no Kafka broker answers at DEMANDCENTER_BOOTSTRAP={BOOTSTRAP}: {e}")
        cls.dir = tempfile.mkdtemp(prefix="dc-create-topics-")
        cls.created = set()

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir, ignore_errors=True)
        if cls.created:
            for future in cls.admin.delete_topics(sorted(cls.created), operation_timeout=30).values():
                try:
                    future.result()
                except Exception:  # noqa: BLE001 - best effort
                    pass

    def prefix(self, name):
        return f"ct-{name}-{os.getpid()}-{random.randrange(1 << 30)}"

    def test_creates_then_nothing(self):
        path, config = write_config(self.dir, self.prefix("idem"))
        wanted = expected_topics(config)
        self.created |= wanted
        args = ["--config", path, "--partitions", str(PARTITIONS), "--replication", "1",
                "--dlq-retention", "3d"]
        first, _ = run(*args)
        self.assertEqual(first.returncode, 0, first.stdout + first.stderr)
        created = {line.split()[1] for line in first.stdout.splitlines() if line.startswith("created: ")}
        self.assertEqual(created, wanted)
        self.assertEqual(len(wanted), 13)

        second, _ = run(*args)
        self.assertEqual(second.returncode, 0, second.stdout + second.stderr)
        self.assertNotIn("created:", second.stdout)
        self.assertIn("nothing to create: all 13 topics exist", second.stdout)

        metadata = self.admin.list_topics(timeout=10)
        for topic in wanted:
            self.assertIn(topic, metadata.topics)
            # The identity task's input has one partition.
            count = 1 if topic.endswith("-identity-repartition") else PARTITIONS
            self.assertEqual(len(metadata.topics[topic].partitions), count, topic)
            replicas = {len(p.replicas) for p in metadata.topics[topic].partitions.values()}
            self.assertEqual(replicas, {1}, topic)

        t = config["kafka"]["topics"]
        changelog = f"{config['application_id']}-state-changelog"
        resources = [ConfigResource(ConfigResource.Type.TOPIC, name)
                     for name in (changelog, t["reps"], t["dlq"], t["nba"])]
        configs = {r.name: f.result() for r, f in self.admin.describe_configs(resources).items()}
        self.assertEqual(configs[changelog]["cleanup.policy"].value, "compact")
        self.assertEqual(configs[t["reps"]]["cleanup.policy"].value, "compact")
        self.assertEqual(configs[t["dlq"]]["cleanup.policy"].value, "delete")
        self.assertEqual(int(configs[t["dlq"]]["retention.ms"].value), DLQ_RETENTION_MS)
        self.assertEqual(configs[t["nba"]]["cleanup.policy"].value, "delete")
        self.assertNotEqual(int(configs[t["nba"]]["retention.ms"].value), DLQ_RETENTION_MS)

        # Another partition count for topics that exist: an error, nothing changed.
        other, _ = run("--config", path, "--partitions", str(PARTITIONS + 1), "--replication", "1")
        self.assertEqual(other.returncode, 1, other.stdout + other.stderr)
        self.assertIn(f"{t['signals'][0]} exists with {PARTITIONS} partitions, not {PARTITIONS + 1}", other.stderr)
        self.assertIn(f"{changelog} exists with {PARTITIONS} partitions", other.stderr)
        self.assertNotIn("created:", other.stdout)

    def test_uncompacted_changelog_is_an_error(self):
        path, config = write_config(self.dir, self.prefix("compact"))
        changelog = f"{config['application_id']}-state-changelog"
        self.created |= expected_topics(config)
        for future in self.admin.create_topics([NewTopic(changelog, PARTITIONS, 1)], operation_timeout=30).values():
            future.result()
        r, _ = run("--config", path, "--partitions", str(PARTITIONS), "--replication", "1")
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn(f"{changelog} exists with cleanup.policy=delete; it must be compacted", r.stderr)
        # The others were created all the same.
        self.assertEqual(r.stdout.count("created: "), 12)

    def test_bad_config_path(self):
        missing = os.path.join(self.dir, "missing.yaml")
        r, _ = run("--config", missing, "--partitions", "3", "--replication", "1")
        self.assertEqual(r.returncode, 2)
        self.assertIn(f"cannot read the config file {missing}: No such file or directory", r.stderr)
        broken = os.path.join(self.dir, "broken.yaml")
        with open(broken, "w", encoding="utf-8") as f:
            f.write("kafka: [unclosed\n")
        r, _ = run("--config", broken, "--partitions", "3", "--replication", "1")
        self.assertEqual(r.returncode, 2)
        self.assertIn("is not valid YAML", r.stderr)

    def test_unreachable_cluster(self):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()  # nothing listens there now
        path, _ = write_config(self.dir, self.prefix("down"))
        r, seconds = run("--config", path, "--partitions", "3", "--replication", "1",
                         "--bootstrap-servers", f"127.0.0.1:{port}", "--timeout", "2")
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn(f"the Kafka cluster at 127.0.0.1:{port} did not answer within 2 s", r.stderr)
        self.assertLess(seconds, 15, "the timeout did not bound the wait")

    def test_replication_above_brokers(self):
        path, _ = write_config(self.dir, self.prefix("rf"))
        brokers = len(self.admin.list_topics(timeout=10).brokers)
        r, _ = run("--config", path, "--partitions", "3", "--replication", str(brokers + 1))
        self.assertEqual(r.returncode, 1)
        self.assertIn(f"--replication {brokers + 1} but the cluster at {BOOTSTRAP} has {brokers} broker(s)", r.stderr)


if __name__ == "__main__":
    print(f"create-topics tests against {BOOTSTRAP}", file=sys.stderr)
    unittest.main(verbosity=2)
