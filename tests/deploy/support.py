"""Shared by the deploy tests: paths, the metric names the engine registers
(read from src/), and the metric names a PromQL expression uses."""

import glob
import os
import re

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEPLOY = os.path.join(ROOT, "deploy")
BIN = os.environ.get("DEMANDCENTER_BIN", os.path.join(ROOT, "build", "demandcenter"))

# A gauge announced for the journey funnel; not registered in src/ yet.
ANNOUNCED_METRICS = {"demandcenter_accounts"}

_REGISTERED = re.compile(r'(?:\.Name|\bcounter)\(\s*"(demandcenter_[a-z0-9_]+)"')
_HISTOGRAM = re.compile(r'BuildHistogram\(\)\s*\.Name\(\s*"(demandcenter_[a-z0-9_]+)"')


def engine_metrics():
    """(every metric name registered in src/, the histograms among them)."""
    names, histograms = set(), set()
    for path in glob.glob(os.path.join(ROOT, "src", "**", "*.cc"), recursive=True):
        with open(path, encoding="utf-8") as f:
            text = f.read()
        names.update(_REGISTERED.findall(text))
        histograms.update(_HISTOGRAM.findall(text))
    return names, histograms


def known_series_names():
    """Series names a query may use: the registered metrics, the _bucket,
    _sum and _count series of the histograms, and the announced gauge."""
    names, histograms = engine_metrics()
    series = set(names) | ANNOUNCED_METRICS
    for h in histograms:
        series |= {f"{h}_bucket", f"{h}_sum", f"{h}_count"}
    return series


_KEYWORDS = {"and", "or", "unless", "bool", "offset", "by", "without", "on", "ignoring",
             "group_left", "group_right", "inf", "nan", "atan2"}


def promql_metric_names(expr):
    """The metric names an expression selects (label matchers, ranges,
    groupings, function names and keywords removed)."""
    e = re.sub(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'', "", expr)    # strings
    e = re.sub(r"\{[^}]*\}", " ", e)                                      # label matchers
    e = re.sub(r"\[[^\]]*\]", " ", e)                                     # ranges
    e = re.sub(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", e)
    e = re.sub(r"\$\{?[A-Za-z_][A-Za-z0-9_]*\}?", " ", e)                 # dashboard variables
    e = re.sub(r"\b[a-zA-Z_][a-zA-Z0-9_]*\s*\(", "(", e)                  # function calls
    e = re.sub(r"\b\d[\w.]*", " ", e)                                     # numbers, durations
    return {t for t in re.findall(r"[a-zA-Z_:][a-zA-Z0-9_:]*", e) if t not in _KEYWORDS}
