"""The log path's static check: Promtail must push to the Loki that is installed and keep the app namespaces."""

from __future__ import annotations

from dbc_validate.analysis.log_shipping import Component, kept, log_shipping_problems
from dbc_validate.cluster.pins import load_pins

LOKI = Component("loki", "monitoring", {})
PUSH = {"config": {"clients": [{"url": "http://loki.monitoring.svc:3100/loki/api/v1/push"}]}}


def test_the_shipped_pins_pass():
    pins = load_pins()
    loki, promtail = pins.addon("loki"), pins.addon("promtail")
    assert loki is not None and promtail is not None
    components = [Component(a.name, a.namespace, a.values) for a in (loki, promtail)]
    assert log_shipping_problems(*components, ["prod", "stage", "infra"]) == []


def test_a_missing_loki_a_wrong_client_and_a_dropped_namespace_are_problems():
    promtail = Component("promtail", "monitoring", PUSH)
    assert log_shipping_problems(None, promtail, ["prod"]) == [
        "no Loki is configured: application logs would go nowhere"
    ]
    elsewhere = Component("promtail", "monitoring", {"config": {"clients": [{"url": "http://loki.logs.svc:3100/x"}]}})
    assert "not to Loki" in log_shipping_problems(LOKI, elsewhere, ["prod"])[0]
    keep_prod = {"source_labels": ["__meta_kubernetes_namespace"], "action": "keep", "regex": "prod"}
    narrowed = Component(
        "promtail",
        "monitoring",
        {**PUSH, "config": {**PUSH["config"], "snippets": {"extraRelabelConfigs": [keep_prod]}}},
    )
    assert log_shipping_problems(LOKI, narrowed, ["prod", "stage"]) == [
        "Promtail's relabelling drops the logs of namespace(s) stage"
    ]


def test_keep_and_drop_rules_on_the_namespace_are_anchored_and_other_rules_ignored():
    drop_stage = {"source_labels": ["namespace"], "action": "drop", "regex": "stag"}
    assert kept("stage", [drop_stage])  # anchored: "stag" does not match "stage"
    assert not kept("stage", [{**drop_stage, "regex": "stag.*"}])
    assert kept("stage", [{"source_labels": ["__meta_kubernetes_pod_name"], "action": "drop", "regex": ".*"}])
