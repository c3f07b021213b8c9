"""Integration tests of `demandcenter run` against a real Apache Kafka broker
(started by deploy/local/kafka.sh; DEMANDCENTER_BOOTSTRAP names it).

Each test generates signals, computes the expected outputs with
`demandcenter replay --partitions 12`, runs the engine under some failure,
and reads every output topic back with read_committed consumers: the outputs
must equal replay's — the same records, in the same order per account and
topic — nothing lost, nothing duplicated."""

import json
import os
import random
import signal
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

SIGNALS = int(os.environ.get("DEMANDCENTER_IT_SIGNALS", "100000"))
ACCOUNTS = int(os.environ.get("DEMANDCENTER_IT_ACCOUNTS", "10000"))


class KafkaTest(harness.AppTestCase):
    def new_app(self, name, malformed=0.0, seed=7, signal_topics=1, keyless_at_random=False):
        app = harness.App(name, signal_topics=signal_topics, keyless_at_random=keyless_at_random)
        self.apps.append(app)
        path = app.generate(ACCOUNTS, SIGNALS, seed, malformed)
        expected = app.replay(path)
        self.assertGreater(harness.count(expected), 0)
        return app, path, expected

    def test_1_equivalence_with_replay(self):
        app, path, expected = self.new_app("equivalence")
        produced = app.produce(path)
        started = time.time()
        app.start("0")
        app.wait_consumed()
        seconds = time.time() - started
        print(f"\n  equivalence: {produced} signals in {seconds:.1f}s "
              f"({produced / seconds:.0f} signals/s including start-up)", file=sys.stderr)
        self.assertOutputsEqual(app, expected)
        # The decision metrics count committed work: as many transitions and
        # prompts as the outputs hold.
        m = app.metrics("0")
        for kind, metric in (("transitions", "demandcenter_stage_transitions_total{"),
                             ("nba", "demandcenter_actions_emitted_total{")):
            counted = sum(v for k, v in m.items() if k.startswith(metric))
            want = sum(len(v) for (topic, _), v in expected.items() if topic == app.topics[kind])
            self.assertEqual(counted, want, metric)

    def test_2_kill_9_at_random_points(self):
        app, path, expected = self.new_app("crash", seed=11)
        app.produce(path)
        rng = random.Random(2)
        kills = sorted(rng.uniform(0.1, 0.9) for _ in range(5))
        app.start("0")
        for fraction in kills:
            app.wait_committed_share(fraction)
            time.sleep(rng.uniform(0, 0.3))  # somewhere inside a transaction
            app.kill("0", signal.SIGKILL)
            app.start("0")
        app.wait_consumed()
        self.assertOutputsEqual(app, expected)

    def test_2b_three_signal_topics_in_event_time_order(self):
        """web, email and crm signals on their own topics: each task takes
        them in event-time order whatever order they are fetched in, so run
        still equals replay, across kill -9."""
        app, path, expected = self.new_app("threetopics", seed=17, signal_topics=3)
        app.produce(path)
        ends = app.signal_ends()
        self.assertEqual(len({t for t, _ in ends}), 3)
        self.assertTrue(all(sum(e for (t, _), e in ends.items() if t == topic) > 0 for topic in app.signal_topics))
        app.start("0")
        for fraction in (0.3, 0.7):
            app.wait_committed_share(fraction)
            app.kill("0", signal.SIGKILL)
            app.start("0")
        app.wait_consumed()
        self.assertOutputsEqual(app, expected)

    def test_2c_global_identity_with_keyless_signals_at_random(self):
        """identity.scope global (the shipped config's): keyless signals
        produced with the default (random) partitioner go through the
        identity task, on three signal topics; run equals replay across two
        kill -9s, each somewhere inside a transaction."""
        app, path, expected = self.new_app("identity", seed=19, signal_topics=3, keyless_at_random=True)
        app.produce(path)
        rng = random.Random(3)
        app.start("0")
        for fraction in (0.3, 0.7):
            app.wait_committed_share(fraction)
            time.sleep(rng.uniform(0, 0.3))  # somewhere inside a transaction
            app.kill("0", signal.SIGKILL)
            app.start("0")
        app.wait_consumed()
        self.assertOutputsEqual(app, expected)
        resolved = len(app.read_topic(app.internal_topics[1]))
        self.assertGreater(resolved, 0)
        print(f"\n  global identity: {resolved} records through {app.internal_topics[1]}", file=sys.stderr)

    def test_3_scale_out_and_failover(self):
        app, path, expected = self.new_app("scaleout", seed=13)
        app.produce(path)
        app.start("1")
        app.start("2")
        app.wait_committed_share(0.3)
        app.kill("2", signal.SIGKILL)  # the survivor takes its partitions
        app.wait_committed_share(0.6)
        app.start("3")  # partitions move back to a new member
        app.wait_consumed()
        self.assertOutputsEqual(app, expected)
        self.assertIn("assigned", app.log("3"))
        restored = app.metrics("3").get("demandcenter_state_restored_records_total", 0)
        self.assertGreater(restored, 0, "instance 3 should have restored moved partitions from the changelog")

    def test_4_poison_pills_go_to_the_dlq(self):
        app, path, expected = self.new_app("poison", malformed=0.01, seed=17)
        app.produce(path)
        app.start("0")
        app.wait_consumed()
        self.assertOutputsEqual(app, expected)
        dlq = app.read_topic(app.topics["dlq"])
        replay = subprocess.run([harness.BIN, "replay", "--config", app.config_path, "--input", path,
                                 "--partitions", str(app.partitions), "--output", os.devnull],
                                capture_output=True, text=True, check=True)
        rejected = int(replay.stderr.split(" rejected")[0].rsplit(" ", 1)[-1])
        self.assertEqual(len(dlq), rejected)
        with open(path, "rb") as f:
            lines = [l.rstrip(b"\n") for l in f]
        by_value = set(lines)
        for m in dlq:
            headers = {k: v.decode() for k, v in (m.headers() or [])}
            self.assertIn(headers.get("error.code"), {"BAD_JSON", "UNKNOWN_FIELD", "UNDECODABLE", "MISSING_EVENT_ID",
                                                     "MISSING_TYPE", "MISSING_OCCURRED_AT", "MISSING_IDENTITY",
                                                     "BAD_TIMESTAMP", "BAD_TYPE", "UNRESOLVED_ACCOUNT", "EMPTY"})
            self.assertTrue(headers.get("error.message"))
            self.assertEqual(headers.get("source.topic"), app.topics["signals"])
            self.assertIn(int(headers["source.partition"]), range(app.partitions))
            self.assertGreaterEqual(int(headers["source.offset"]), 0)
            self.assertIn(m.value(), by_value, "the DLQ keeps the original bytes")

    def test_5_broker_restart_mid_run(self):
        app, path, expected = self.new_app("brokerrestart", seed=19)
        app.produce(path)
        app.start("0")
        app.wait_committed_share(0.4)
        # A restart as operators do it (SIGTERM, controlled shutdown). Not
        # SIGKILL: on a one-node cluster a node killed and restarted inside
        # its broker session makes Kafka's transaction coordinator skip the
        # abort markers of a timed-out transaction (docs/kafka.md), which no
        # client can undo.
        subprocess.run([os.path.join(harness.ROOT, "deploy", "local", "kafka.sh"), "restart-broker", "1"],
                       check=True, stdout=subprocess.DEVNULL)
        app.wait_consumed()
        self.assertOutputsEqual(app, expected)

    def test_6_restart_reuses_the_local_store(self):
        app, path, expected = self.new_app("tailrestore", seed=23)
        half = os.path.join(app.workdir, "first-half.jsonl")
        rest = os.path.join(app.workdir, "second-half.jsonl")
        with open(path) as f:
            lines = f.readlines()
        with open(half, "w") as f:
            f.writelines(lines[: len(lines) // 2])
        with open(rest, "w") as f:
            f.writelines(lines[len(lines) // 2:])
        app.produce(half)
        app.start("0")
        app.wait_consumed()
        changelog_total = sum(app.end_offsets(app.changelog).values())
        app.kill("0", signal.SIGTERM)  # clean stop
        # The rest comes while the engine is down: a backlog at the restart,
        # taken in the order replay takes the whole stream (signals that
        # come after every task caught up are taken as they arrive).
        app.produce(rest)
        app.start("0")
        app.wait_ready("0")
        m = app.metrics("0")
        self.assertEqual(m.get('demandcenter_state_restores_total{kind="full"}', 0), 0)
        self.assertEqual(m.get('demandcenter_state_restores_total{kind="tail"}', 0), app.partitions)
        self.assertLess(m.get("demandcenter_state_restored_records_total", 0), changelog_total / 10)
        app.wait_consumed()
        m = app.metrics("0")
        # After the restart the cache is empty: accounts of the first half
        # come from RocksDB (misses), their later signals from the cache.
        self.assertGreater(m.get('demandcenter_state_cache_lookups_total{result="miss"}', 0), 0)
        self.assertGreater(m.get('demandcenter_state_cache_lookups_total{result="hit"}', 0), 0)
        # The stores' shared memory, within state.block_cache_mib and
        # state.memtable_mib (64 MiB each by default): the misses read
        # blocks into the cache.
        block_cache = m.get('demandcenter_state_memory_bytes{part="block_cache"}', -1)
        memtables = m.get('demandcenter_state_memory_bytes{part="memtables"}', -1)
        self.assertGreater(block_cache, 0)
        self.assertLessEqual(block_cache, 64 << 20)
        self.assertGreaterEqual(memtables, 0)
        self.assertLessEqual(memtables, 64 << 20)
        app.kill("0", signal.SIGKILL)  # unclean stop
        app.start("0")
        app.wait_ready("0")
        app.wait_consumed()
        m = app.metrics("0")
        self.assertEqual(m.get('demandcenter_state_restores_total{kind="full"}', 0), 0)
        self.assertLess(m.get("demandcenter_state_restored_records_total", 0),
                        sum(app.end_offsets(app.changelog).values()) / 2)
        self.assertOutputsEqual(app, expected)

    def test_7_zombie_is_fenced(self):
        app, path, expected = self.new_app("zombie", seed=29)
        app.produce(path)
        app.start("1")
        app.wait_committed_share(0.3)
        app.kill("1", signal.SIGSTOP)  # frozen past the session timeout (10 s)
        app.start("2")
        time.sleep(15)
        app.kill("1", signal.SIGCONT)  # wakes up with stale partitions: must be fenced
        app.wait_consumed()
        self.assertOutputsEqual(app, expected)

    def test_9_full_disk_under_the_state_directory(self):
        """The state directory's disk fills up mid-run, and the instance is
        then restarted on it: each time it waits, consuming and committing
        nothing, counting each attempt, and goes on by itself once space is
        freed; outputs equal replay."""
        app, path, expected = self.new_app("fulldisk", seed=37)
        state = app.mount_small_disk(768)
        app.produce(path)
        app.start("0")
        app.wait_committed_share(0.3)
        ballast = app.fill_disk(state)
        errors = lambda: app.metrics("0").get("demandcenter_state_write_errors_total", 0)  # noqa: E731

        def held_back(phase):
            app.wait_for(lambda: errors() >= 1, f"a refused state write ({phase})")
            held = app.committed()
            first = errors()
            app.wait_for(lambda: errors() >= first + 2, f"two more attempts ({phase})")  # it keeps trying
            self.assertEqual(app.committed(), held, f"nothing may be committed while the store waits ({phase})")
            self.assertEqual(app.metrics("0").get("demandcenter_state_writes_blocked"), 1, phase)
            ends = app.signal_ends()  # the signal topics only: the internal ones' offsets count other records
            self.assertLess(sum(max(0, held.get(tp, 0)) for tp in ends), sum(ends.values()), f"{phase}: {held} {ends}")

        held_back("mid-run")
        app.kill("0", signal.SIGKILL)  # restarted onto the full disk: its stores cannot even open
        app.start("0")
        held_back("restart")
        os.remove(ballast)
        app.wait_consumed()
        self.assertOutputsEqual(app, expected)
        self.assertEqual(app.metrics("0").get("demandcenter_state_writes_blocked"), 0)
        self.assertIn("less than state.min_free_mib", app.log("0"))

    def test_8_sales_directory_from_routing_reps(self):
        """A pool member paused in routing.reps gets no new accounts, in run
        exactly as in replay of the same update."""
        app = harness.App("directory")
        self.apps.append(app)
        path = app.generate(ACCOUNTS // 5, SIGNALS // 5, 31)
        update = {"pool_id": "sdr_team", "member_id": "rep-sdr-02", "paused": True}
        with_update = os.path.join(app.workdir, "with-update.jsonl")
        with open(with_update, "w") as out, open(path) as f:
            out.write(json.dumps({"pool_update": update}) + "\n")
            out.writelines(f)
        expected = app.replay(with_update)
        from confluent_kafka import Producer
        p = Producer({"bootstrap.servers": harness.BOOTSTRAP})
        p.produce(app.topics["reps"], key=b"sdr_team/rep-sdr-02", value=json.dumps(update).encode())
        self.assertEqual(p.flush(30), 0)
        app.produce(path)
        app.start("0")
        app.wait_consumed()
        self.assertOutputsEqual(app, expected)
        routed = [v for (topic, _), values in expected.items() if topic == app.topics["routing"] for v in values]
        self.assertTrue(any(v.get("pool") == "sdr_team" for v in routed))
        self.assertFalse(any(v.get("assignee_id") == "rep-sdr-02" for v in routed))
        self.assertIn("read 1 pool member records", app.log("0"))


if __name__ == "__main__":
    unittest.main(verbosity=2)
