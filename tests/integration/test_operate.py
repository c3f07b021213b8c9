"""Operating a running engine against a real Kafka broker: account queries
answered by the instance that owns the account's partition (the other one
points to it), a config reload by SIGHUP and by POST /v1/reload (a broken
config keeps the rules in force), and `inspect` on a stopped instance's
state directory."""

import json
import os
import signal
import subprocess
import sys
import unittest
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

SIGNALS = int(os.environ.get("DEMANDCENTER_IT_OPERATE_SIGNALS", "6000"))


def get(port, path, method="GET"):
    """(status, parsed JSON body) of a request to a local instance."""
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", method=method,
                                     data=b"" if method == "POST" else None)
    try:
        with urllib.request.urlopen(request, timeout=10) as r:
            return r.status, json.loads(r.read() or b"{}")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")


def build_info(app, instance):
    for name, value in app.metrics(instance).items():
        if name.startswith("demandcenter_build_info{") and value == 1:
            return name.split('rules_version="')[1].split('"')[0]
    return None


class OperateTest(harness.AppTestCase):
    def new_app(self, name):
        app = harness.App(name)
        self.apps.append(app)
        path = app.generate(800, SIGNALS, 11)
        expected = app.replay(path)
        return app, path, expected

    def test_account_queries_are_answered_by_the_owner(self):
        app, path, expected = self.new_app("queries")
        app.produce(path)
        app.start("1")
        app.start("2")
        app.wait_consumed()
        ports = {i: app.instances[i][1] for i in ("1", "2")}
        self.assertEqual(get(ports["1"], "/v1/summary")[0], 200)
        stages = {}
        for (topic, key), values in expected.items():
            if topic == app.topics["transitions"]:
                stages[key] = {v["to_stage"] for v in values}
        accounts = sorted(stages)[:25]
        self.assertEqual(len(accounts), 25)
        partitions = set()
        for account in accounts:
            answers = {i: get(port, f"/v1/accounts/{account}") for i, port in ports.items()}
            held = [i for i, (status, _) in answers.items() if status == 200]
            self.assertEqual(len(held), 1, f"{account}: {answers}")
            owner, other = held[0], ("2" if held[0] == "1" else "1")
            view = answers[owner][1]
            self.assertEqual(view["account_id"], account)
            self.assertIn(view["stage"], stages[account])
            self.assertTrue(view.get("recent"), f"{account} has no recent history")
            status, body = answers[other]
            self.assertEqual(status, 404)
            self.assertEqual(body.get("owner"), f"http://127.0.0.1:{ports[owner]}", body)
            partitions.add(harness.partition_of(account, app.partitions))
        self.assertGreater(len(partitions), 3)
        status, body = get(ports["1"], "/v1/accounts/no-such-account-anywhere")
        self.assertEqual(status, 404)
        # Summaries of the two add up to every account with state.
        total = sum(sum(s.get("accounts", 0) for s in get(p, "/v1/summary")[1]["stages"]) for p in ports.values())
        self.assertGreaterEqual(total, len(stages))

    def test_reload_and_inspect(self):
        app, path, expected = self.new_app("reload")
        with open(app.config_path) as f:
            original = f.read()
        with open(app.config_path, "a") as f:
            f.write("http:\n  reload: true\n")
        with open(app.config_path) as f:
            good = f.read()
        app.produce(path)
        app.start("0")
        port = app.instances["0"][1]
        app.wait_consumed()
        self.assertOutputsEqual(app, expected)
        metrics = app.metrics("0")
        self.assertEqual(metrics["demandcenter_consumer_lag_records"], 0)
        by_channel = sum(v for k, v in metrics.items() if k.startswith("demandcenter_actions_by_channel_total{"))
        self.assertEqual(by_channel, sum(len(v) for (t, _), v in expected.items() if t == app.topics["nba"]))
        before = build_info(app, "0")
        self.assertEqual(before, "2026.11-1")

        # A broken config: refused with its problems, the rules in force stay.
        with open(app.config_path, "w") as f:
            f.write(good.replace("journey:", "journey:\n  no_such_key: 1", 1))
        status, body = get(port, "/v1/reload", method="POST")
        self.assertEqual(status, 400, body)
        self.assertIn("no_such_key", body["error"])
        self.assertEqual(app.metrics("0")['demandcenter_config_reloads_total{result="error"}'], 1)
        self.assertEqual(build_info(app, "0"), before)

        # A good one by SIGHUP: the new rules_version is in force and on the
        # outputs of what comes next.
        with open(app.config_path, "w") as f:
            f.write(good.replace('rules_version: "2026.11-1"', 'rules_version: "reloaded-2"', 1))
        app.kill("0", signal.SIGHUP)
        app.wait_for(lambda: build_info(app, "0") == "reloaded-2", "the reloaded rules_version")
        self.assertEqual(app.metrics("0")['demandcenter_config_reloads_total{result="ok"}'], 1)
        second = os.path.join(app.workdir, "later.jsonl")
        subprocess.run([harness.BIN, "generate", "--accounts", "800", "--signals", "2000", "--seed", "12",
                        "--start", "2026-07-01", "--output", second], check=True, stderr=subprocess.DEVNULL)
        app.produce(second)
        app.wait_consumed()
        versions = set()
        app.read_topic(app.topics["nba"], visit=lambda m: versions.add(json.loads(m.value()).get("rules_version")))
        self.assertEqual(versions, {"2026.11-1", "reloaded-2"})

        # inspect: refused while the instance holds its stores, then the
        # account as the API showed it.
        state_dir = os.path.join(app.workdir, "state", app.name, "0")
        account = sorted(k for (t, k) in expected if t == app.topics["transitions"])[0]
        running = subprocess.run([harness.BIN, "inspect", "--state-dir", state_dir, "--account", account],
                                 capture_output=True, text=True, timeout=60)
        self.assertEqual(running.returncode, 1)
        self.assertIn("another instance", running.stderr)
        status, live = get(port, f"/v1/accounts/{account}")
        self.assertEqual(status, 200)
        app.kill("0", signal.SIGTERM)
        with open(app.config_path, "w") as f:
            f.write(original)
        done = subprocess.run([harness.BIN, "inspect", "--state-dir", state_dir, "--account", account,
                               "--config", app.config_path], capture_output=True, text=True, timeout=60)
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertEqual(json.loads(done.stdout), live)
        missing = subprocess.run([harness.BIN, "inspect", "--state-dir", state_dir, "--account", "nobody"],
                                 capture_output=True, text=True, timeout=60)
        self.assertEqual(missing.returncode, 1)
        self.assertIn("no account nobody", missing.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
