"""deploy/prometheus: the alert rules and the scrape config, checked by
promtool (Debian's prometheus package), and the rules' metric names checked
against the metrics the engine registers."""

import os
import shutil
import subprocess
import unittest

import yaml

import support

PROM = os.path.join(support.DEPLOY, "prometheus")
PROMTOOL = shutil.which("promtool")


def promtool(*args):
    if PROMTOOL is None:
        raise AssertionError("promtool not found: install the Debian package prometheus (scripts/setup.sh)")
    return subprocess.run([PROMTOOL, *args], cwd=PROM, capture_output=True, text=True, timeout=60)


def load(name):
    with open(os.path.join(PROM, name), encoding="utf-8") as f:
        return yaml.safe_load(f)


class PromtoolTest(unittest.TestCase):
    def test_check_rules(self):
        r = promtool("check", "rules", "alerts.yml")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        rules = [rule for g in load("alerts.yml")["groups"] for rule in g["rules"]]
        self.assertIn(f"SUCCESS: {len(rules)} rules found", r.stdout)

    def test_rule_unit_tests(self):
        r = promtool("test", "rules", "alerts_test.yml")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("SUCCESS", r.stdout)

    def test_check_config(self):
        r = promtool("check", "config", "prometheus.yml")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        config = load("prometheus.yml")
        self.assertIn("alerts.yml", config["rule_files"])
        jobs = {s["job_name"]: s for s in config["scrape_configs"]}
        # DemandCenterDown selects up{job="demandcenter"}.
        self.assertIn("demandcenter", jobs)
        self.assertEqual(jobs["demandcenter"].get("metrics_path", "/metrics"), "/metrics")


class RulesTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.rules = [r for g in load("alerts.yml")["groups"] for r in g["rules"]]
        cls.tests = load("alerts_test.yml")["tests"]

    def test_rules_use_only_engine_metrics(self):
        known = support.known_series_names() | {"up"}
        for rule in self.rules:
            names = support.promql_metric_names(rule["expr"])
            self.assertTrue(names, f"{rule['alert']}: no metric found in {rule['expr']!r}")
            self.assertEqual(names - known, set(), f"{rule['alert']} uses metrics the engine does not export")

    def test_required_alerts(self):
        alerts = {r["alert"]: r["expr"] for r in self.rules}
        wanted = {
            "DemandCenterFallingBehind": "demandcenter_processing_latency_seconds_bucket",
            "DemandCenterDeadLetterRateHigh": "demandcenter_dlq_records_total",
            "DemandCenterTransactionsAborting": 'outcome="aborted"',
            "DemandCenterNotReady": "demandcenter_ready",
            "DemandCenterRestoreSlow": "demandcenter_state_restored_records_total",
            "DemandCenterSlaBreachRateHigh": 'event="breached"',
        }
        for alert, needle in wanted.items():
            self.assertIn(alert, alerts)
            self.assertIn(needle, alerts[alert], alert)
        for rule in self.rules:
            self.assertIn(rule["labels"]["severity"], ("warning", "critical"), rule["alert"])
            self.assertTrue(rule["annotations"].get("summary"), rule["alert"])

    def test_every_alert_tested_firing_and_silent(self):
        firing, silent = set(), set()
        for test in self.tests:
            for case in test["alert_rule_test"]:
                (firing if case.get("exp_alerts") else silent).add(case["alertname"])
        for rule in self.rules:
            self.assertIn(rule["alert"], firing, f"{rule['alert']} is never shown firing")
        # Silent: either an eval with no alert, or instances of the firing
        # case that do not fire (each firing case lists exactly the
        # instances that should).
        for test in self.tests:
            for case in test["alert_rule_test"]:
                if case.get("exp_alerts"):
                    instances = {s["series"].split('instance="')[1].split('"')[0]
                                 for s in test["input_series"] if 'instance="' in s["series"]}
                    fired = {a["exp_labels"]["instance"] for a in case["exp_alerts"]}
                    if instances - fired:
                        silent.add(case["alertname"])
        for rule in self.rules:
            self.assertIn(rule["alert"], silent, f"{rule['alert']} is never shown not firing")


if __name__ == "__main__":
    unittest.main(verbosity=2)
