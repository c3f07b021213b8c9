"""A real Prometheus server scrapes `demandcenter run` on a real broker
(DEMANDCENTER_BOOTSTRAP): PromQL through the HTTP API returns the counts the
run produced, the alert rules of deploy/prometheus/alerts.yml load and
evaluate, and every query of the Grafana dashboard runs.

Needs the `prometheus` binary (Debian's package) and the broker; fails when
either is missing."""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.parse
import urllib.request

import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

PROMETHEUS = os.environ.get("DEMANDCENTER_PROMETHEUS", shutil.which("prometheus") or "prometheus")
ALERTS = os.path.join(harness.ROOT, "deploy", "prometheus", "alerts.yml")
DASHBOARD = os.path.join(harness.ROOT, "deploy", "grafana", "demandcenter.json")
# outputs_total's kind label -> the harness's output topic key.
KIND_TOPICS = {"transition": "transitions", "nba": "nba", "routing": "routing", "prompt": "prompts",
               "identity_conflict": "identity_conflicts"}


class PrometheusServer:
    """prometheus with its own data directory on a free loopback port,
    scraping `targets` every second."""

    def __init__(self, targets):
        if not os.path.exists(PROMETHEUS) and shutil.which(PROMETHEUS) is None:
            raise AssertionError("the prometheus binary is missing: install the Debian package prometheus")
        self.dir = tempfile.mkdtemp(prefix="dc-prometheus-")
        self.port = harness.free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = {
            "global": {"scrape_interval": "1s", "evaluation_interval": "1s", "scrape_timeout": "1s"},
            "rule_files": [ALERTS],
            "scrape_configs": [{"job_name": "demandcenter", "static_configs": [{"targets": targets}]}],
        }
        path = os.path.join(self.dir, "prometheus.yml")
        with open(path, "w") as f:
            yaml.safe_dump(config, f)
        self.log = open(os.path.join(self.dir, "prometheus.log"), "wb")
        self.proc = subprocess.Popen(
            [PROMETHEUS, f"--config.file={path}", f"--storage.tsdb.path={self.dir}/data",
             f"--web.listen-address=127.0.0.1:{self.port}", "--log.level=warn"],
            stdout=self.log, stderr=subprocess.STDOUT)
        self.wait_for(self.ready, "Prometheus to be ready", 60)

    def ready(self):
        if self.proc.poll() is not None:
            raise AssertionError(f"prometheus exited ({self.proc.returncode}): {self.log_text()}")
        try:
            with urllib.request.urlopen(f"{self.url}/-/ready", timeout=2) as r:
                return r.status == 200
        except (OSError, urllib.error.URLError):
            return False

    def log_text(self):
        with open(os.path.join(self.dir, "prometheus.log"), errors="replace") as f:
            return f.read()[-2000:]

    def api(self, path, **params):
        url = f"{self.url}/api/v1/{path}" + (f"?{urllib.parse.urlencode(params)}" if params else "")
        try:
            with urllib.request.urlopen(url, timeout=10) as r:
                body = json.load(r)
        except urllib.error.HTTPError as e:
            body = json.load(e)
        return body

    def query(self, expr):
        """The result vector of an instant query (an error fails the test)."""
        body = self.api("query", query=expr)
        if body.get("status") != "success":
            raise AssertionError(f"query {expr!r}: {body.get('errorType')}: {body.get('error')}")
        return body["data"]["result"]

    def scalar(self, expr):
        """The value of a one-element vector, 0 for an empty one."""
        result = self.query(expr)
        if not result:
            return 0.0
        assert len(result) == 1, f"{expr} returned {len(result)} series"
        return float(result[0]["value"][1])

    def by_label(self, expr, label):
        return {s["metric"].get(label, ""): float(s["value"][1]) for s in self.query(expr)}

    @staticmethod
    def wait_for(condition, what, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if condition():
                return
            time.sleep(0.2)
        raise AssertionError(f"waited {timeout} s for {what}")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


class PrometheusTest(harness.AppTestCase):
    @classmethod
    def setUpClass(cls):
        from confluent_kafka.admin import AdminClient
        try:
            AdminClient({"bootstrap.servers": harness.BOOTSTRAP}).list_topics(timeout=10)
        except Exception as e:  # noqa: BLE001 - any failure means no broker
            raise AssertionError(f"no Kafka broker answers at DEMANDCENTER_BOOTSTRAP={harness.BOOTSTRAP}: {e}")

    def test_promql_counts_equal_the_run(self):
        app = harness.App("prometheus", partitions=4, signal_topics=3)
        self.apps.append(app)
        path = app.generate(400, 4000, seed=5, malformed=0.0)
        produced = app.produce(path)
        port = harness.free_port()
        app.start("0", http_port=port)
        prom = PrometheusServer([f"127.0.0.1:{port}"])
        self.addCleanup(prom.stop)
        app.wait_ready("0", timeout=120)
        app.wait_consumed(timeout=180)

        # What the run wrote, read back with read_committed consumers.
        outputs = {kind: len(app.read_topic(app.topics[key])) for kind, key in KIND_TOPICS.items()}
        dead_letters = len(app.read_topic(app.topics["dlq"]))
        self.assertGreater(sum(outputs.values()), 0)
        self.assertGreater(dead_letters, 0, "the run dead-lettered nothing: the DLQ count proves nothing")

        # Prometheus has scraped the final counts once the outputs, the
        # signals and the dead letters all add up (or the deadline passes).
        last = {}

        def settled():
            last["outputs"] = prom.by_label("sum by (kind) (demandcenter_outputs_total)", "kind")
            last["consumed"] = prom.scalar("sum(demandcenter_signals_consumed_total)")
            last["dlq"] = prom.scalar("sum(demandcenter_dlq_records_total)")
            return (all(last["outputs"].get(k, 0) == v for k, v in outputs.items())
                    and last["consumed"] >= produced and last["dlq"] >= dead_letters)

        try:
            prom.wait_for(settled, "Prometheus to scrape the final counts", 60)
        except AssertionError:
            self.fail(f"PromQL {last} vs the run: {produced} signals produced, outputs {outputs}, "
                      f"{dead_letters} dead letters")

        self.assertEqual(prom.scalar('up{job="demandcenter"}'), 1.0)
        self.assertEqual(prom.scalar("demandcenter_ready"), 1.0)
        self.assertEqual(prom.scalar("demandcenter_assigned_partitions"), app.partitions)
        for kind, n in outputs.items():
            self.assertEqual(last["outputs"].get(kind, 0), n, f"outputs of kind {kind}")
        self.assertEqual(prom.scalar("sum(demandcenter_stage_transitions_total)"), outputs["transition"])
        self.assertEqual(prom.scalar("sum(demandcenter_actions_emitted_total)"), outputs["nba"])
        # Signals and dead letters are counted as processed: a transaction
        # aborted and processed again would count twice.
        aborted = prom.scalar('sum(demandcenter_transactions_total{outcome="aborted"})')
        self.assertEqual(aborted, 0, "a transaction was aborted: the processed counts include a rewind")
        self.assertEqual(last["consumed"], produced)
        self.assertEqual(last["dlq"], dead_letters)
        self.assertGreater(prom.scalar('sum(demandcenter_transactions_total{outcome="committed"})'), 0)
        by_topic = prom.by_label("sum by (topic) (demandcenter_signals_consumed_total)", "topic")
        self.assertEqual(set(by_topic), set(app.signal_topics))
        print(f"\n  prometheus: {produced} signals, outputs {outputs}, {dead_letters} dead letters: "
              "PromQL agrees", file=sys.stderr)

        self.check_alert_rules(prom)
        self.check_dashboard_queries(prom)

    def check_alert_rules(self, prom):
        with open(ALERTS) as f:
            names = {r["alert"] for g in yaml.safe_load(f)["groups"] for r in g["rules"]}

        def evaluated():
            rules = [r for g in prom.api("rules")["data"]["groups"] for r in g["rules"]]
            # An unevaluated rule's lastEvaluation is the zero time, 0001-01-01.
            return len(rules) == len(names) and all(not r.get("lastEvaluation", "0001").startswith("0001")
                                                    for r in rules)

        prom.wait_for(evaluated, "every alert rule to be evaluated", 30)
        rules = [r for g in prom.api("rules")["data"]["groups"] for r in g["rules"]]
        self.assertEqual({r["name"] for r in rules}, names)
        for r in rules:
            self.assertEqual(r["health"], "ok", f"{r['name']}: {r.get('lastError')}")
        # A healthy run fires nothing (DemandCenterDown included: the engine is up).
        firing = [a["labels"]["alertname"] for a in prom.api("alerts")["data"]["alerts"] if a["state"] == "firing"]
        self.assertEqual(firing, [])

    def check_dashboard_queries(self, prom):
        with open(DASHBOARD) as f:
            dashboard = json.load(f)
        panels = [p for p in dashboard["panels"] if p["type"] != "row"]
        signals_series = 0
        for p in panels:
            for t in p["targets"]:
                expr = t["expr"].replace("$__rate_interval", "1m").replace("$instance", ".*")
                result = prom.query(expr)  # fails on a PromQL error
                if "demandcenter_signals_consumed_total" in expr:
                    signals_series += len(result)
        self.assertGreater(signals_series, 0, "the dashboard's signal panel shows no data")


if __name__ == "__main__":
    unittest.main(verbosity=2)
