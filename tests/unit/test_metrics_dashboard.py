"""The Grafana dashboard in docs/ is importable (Grafana's dashboard model, its data
source an input) and reads only metrics Centrex exports, by labels they have; every
metric has a panel."""

from __future__ import annotations

import json
import re
from pathlib import Path
from types import SimpleNamespace

import pytest
from prometheus_client.metrics import MetricWrapperBase
from prometheus_client.process_collector import ProcessCollector

from centrex import metrics

DASHBOARD = Path(__file__).resolve().parents[2] / "docs" / "grafana-dashboard.json"
SUFFIXES = {"counter": ["_total"], "histogram": ["_bucket", "_count", "_sum"], "gauge": [""]}
# Labels Prometheus itself gives every series it scrapes.
TARGET_LABELS = {"job", "instance"}
PROMQL_WORDS = {"sum", "max", "rate", "increase", "histogram_quantile", "label_values"}


def exported() -> dict[str, set[str]]:
    """Every series name Centrex serves → its label names."""
    series: dict[str, set[str]] = {}
    for metric in vars(metrics).values():
        if isinstance(metric, MetricWrapperBase):
            (family,) = metric.describe()
            for suffix in SUFFIXES[family.type]:
                extra = {"le"} if suffix == "_bucket" else set()
                series[family.name + suffix] = set(metric._labelnames) | extra
    nodes = metrics.NodesCollector(SimpleNamespace(nodes={}))  # type: ignore[arg-type]
    for collector in (nodes, ProcessCollector(registry=None)):
        for family in collector.collect():
            labels = {k for s in family.samples for k in s.labels}
            for suffix in SUFFIXES[family.type]:
                series[family.name + suffix] = labels | (
                    {"node"} if "node" in family.name else set()
                )
    return {name: labels | TARGET_LABELS for name, labels in series.items()}


@pytest.fixture(scope="module")
def dashboard() -> dict:
    loaded: dict = json.loads(DASHBOARD.read_text())
    return loaded


def graphs(dashboard: dict) -> list[dict]:
    return [p for p in dashboard["panels"] if p["type"] != "row"]


def test_it_is_a_dashboard_grafana_imports(dashboard):
    assert dashboard["title"] and dashboard["uid"] and dashboard["id"] is None
    assert isinstance(dashboard["schemaVersion"], int) and dashboard["schemaVersion"] >= 36
    (source,) = dashboard["__inputs"]
    assert (source["type"], source["pluginId"]) == ("datasource", "prometheus")
    reference = {"type": "prometheus", "uid": "${" + source["name"] + "}"}
    ids = [p["id"] for p in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    for panel in dashboard["panels"]:
        grid = panel["gridPos"]
        assert all(isinstance(grid[k], int) for k in ("h", "w", "x", "y"))
        assert grid["x"] >= 0 and grid["x"] + grid["w"] <= 24 and grid["h"] > 0
    for panel in graphs(dashboard):
        assert panel["type"] in {"timeseries", "stat"} and panel["title"]
        assert panel["datasource"] == reference
        ref_ids = [t["refId"] for t in panel["targets"]]
        assert panel["targets"] and len(ref_ids) == len(set(ref_ids))
        assert all(t["datasource"] == reference and t["expr"] for t in panel["targets"])
    for variable in dashboard["templating"]["list"]:
        assert variable["datasource"] == reference


def expressions(dashboard: dict) -> list[str]:
    exprs = [t["expr"] for p in graphs(dashboard) for t in p["targets"]]
    exprs += [v["definition"] for v in dashboard["templating"]["list"]]
    return exprs


def names_and_labels(expr: str) -> tuple[set[str], set[str]]:
    """The metric names an expression reads, and the label names it uses."""
    rest = re.sub(r'"[^"]*"', "", expr)  # label values
    rest = re.sub(r"\[[^\]]*\]", "", rest)  # ranges
    labels = set()
    for group in re.findall(r"\b(?:by|without) \(([^)]*)\)", rest):
        labels |= {label.strip() for label in group.split(",")}
    rest = re.sub(r"\b(?:by|without) \([^)]*\)", "", rest)
    labels |= set(re.findall(r"([a-z_]+)\s*(?:=~|!=|!~|=)", rest))
    rest = re.sub(r"[a-z_]+\s*(?:=~|!=|!~|=)", "", rest)
    for _metric, label in re.findall(r"label_values\(([a-z_:]+),\s*([a-z_]+)\)", rest):
        labels.add(label)
        rest = rest.replace(f", {label})", ")")
    names = set(re.findall(r"[a-zA-Z_:][a-zA-Z0-9_:]*", rest)) - PROMQL_WORDS
    return names, labels


def test_every_expression_reads_series_centrex_exports_by_their_labels(dashboard):
    series = exported()
    for expr in expressions(dashboard):
        names, labels = names_and_labels(expr)
        assert names, expr
        assert not names - series.keys(), f"{expr}: no such metric {names - series.keys()}"
        known = set().union(*(series[name] for name in names))
        assert labels <= known, f"{expr}: no label {labels - known}"


def test_what_the_check_reads_in_an_expression():
    assert names_and_labels(
        'histogram_quantile(0.99, sum by (le, section) (rate(centrex_x_bucket{outcome!="f"}[5m])))'
    ) == ({"centrex_x_bucket"}, {"le", "section", "outcome"})
    assert names_and_labels("label_values(centrex_esl_nodes, job)") == (
        {"centrex_esl_nodes"},
        {"job"},
    )


def test_every_centrex_metric_has_a_panel(dashboard):
    read = " ".join(expressions(dashboard))
    families = {re.sub(r"_(total|bucket|count|sum)$", "", name) for name in exported()}
    missing = {f for f in families if f.startswith("centrex_") and f not in read}
    assert not missing
