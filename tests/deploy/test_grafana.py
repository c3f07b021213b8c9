"""deploy/grafana/demandcenter.json: valid JSON, a Prometheus datasource
variable, the panels asked for, and every query naming only metrics the
engine registers in src/ (or the announced demandcenter_accounts gauge)."""

import json
import os
import unittest

import support

DASHBOARD = os.path.join(support.DEPLOY, "grafana", "demandcenter.json")


def panels(dashboard):
    for p in dashboard["panels"]:
        yield p
        yield from p.get("panels", [])


class GrafanaDashboardTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        with open(DASHBOARD, encoding="utf-8") as f:
            cls.dashboard = json.load(f)
        cls.panels = [p for p in panels(cls.dashboard) if p["type"] != "row"]

    def test_schema_and_datasource_variable(self):
        self.assertIsInstance(self.dashboard["schemaVersion"], int)
        self.assertGreaterEqual(self.dashboard["schemaVersion"], 30)
        self.assertTrue(self.dashboard["uid"])
        variables = {v["name"]: v for v in self.dashboard["templating"]["list"]}
        ds = [v for v in variables.values() if v["type"] == "datasource"]
        self.assertEqual(len(ds), 1)
        self.assertEqual(ds[0]["query"], "prometheus")
        for p in self.panels:
            self.assertEqual(p["datasource"]["uid"], "${%s}" % ds[0]["name"], p["title"])
            for t in p["targets"]:
                self.assertEqual(t["datasource"]["uid"], "${%s}" % ds[0]["name"], p["title"])

    def test_layout(self):
        ids = [p["id"] for p in panels(self.dashboard)]
        self.assertEqual(len(ids), len(set(ids)), "panel ids repeat")
        for p in panels(self.dashboard):
            g = p["gridPos"]
            self.assertTrue(0 <= g["x"] and g["x"] + g["w"] <= 24, p["title"])
            self.assertGreater(g["h"], 0, p["title"])

    def test_every_query_names_engine_metrics(self):
        known = support.known_series_names()
        for p in self.panels:
            self.assertTrue(p["targets"], f"{p['title']} has no query")
            for t in p["targets"]:
                names = support.promql_metric_names(t["expr"])
                self.assertTrue(names, f"{p['title']}: no metric in {t['expr']!r}")
                self.assertEqual(names - known, set(), f"{p['title']}: not exported by the engine")

    def test_required_panels(self):
        exprs = {p["title"]: " ".join(t["expr"] for t in p["targets"]) for p in self.panels}

        def panel_with(*needles):
            hits = [title for title, e in exprs.items() if all(n in e for n in needles)]
            self.assertTrue(hits, f"no panel queries {needles}")
            return hits

        panel_with("demandcenter_accounts", "by (stage)")                      # the funnel
        panel_with("demandcenter_stage_transitions_total", "* 60")              # per minute
        panel_with("demandcenter_actions_emitted_total", "* 60")
        panel_with("demandcenter_actions_by_channel_total", "by (channel)")     # by channel
        panel_with("demandcenter_consumer_lag_records")                         # lag
        panel_with("demandcenter_dlq_records_total", "by (reason)")
        panel_with("rate(demandcenter_signals_consumed_total")
        panel_with("demandcenter_commit_latency_seconds_bucket", "histogram_quantile")
        panel_with("demandcenter_ready")


if __name__ == "__main__":
    unittest.main(verbosity=2)
