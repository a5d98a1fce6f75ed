"""The Gate 1 catalog: exactly the agreed ids, thresholds where the seed gives figures, ini overrides."""

from __future__ import annotations

import pytest

from dbc_validate.criteria import CATALOG, IDS, UnknownCriterion, by_id, with_overrides
from dbc_validate.scope import Scope

EXPECTED_IDS = [
    "infrastructure.nodes_ready",
    "infrastructure.control_plane_quorum",
    "infrastructure.storage_provisioning",
    "security.sealed_secrets",
    "security.rbac",
    "security.network_policies",
    "security.non_root",
    "databases.cnpg_healthy",
    "databases.failover",
    "databases.cjk_parser",
    "databases.mysql_healthy",
    "applications.wordpress_accessible",
    "applications.database_connectivity",
    "applications.persistent_storage",
    "applications.logs_metrics_visible",
    "applications.traffic_split",
    "observability.prometheus_targets",
    "observability.grafana_dashboards",
    "observability.loki_logs",
    "observability.no_critical_alerts",
    "stability.soak",
    "stability.no_crashloops",
    "stability.resource_headroom",
]


def test_the_catalog_has_exactly_the_gate1_ids_in_order() -> None:
    assert list(IDS) == EXPECTED_IDS


def test_every_criterion_requires_cluster_scope_and_names_its_area() -> None:
    for criterion in CATALOG:
        assert criterion.required_scope is Scope.CLUSTER
        assert criterion.id.startswith(criterion.area + ".")
        assert criterion.title


def test_thresholds_carry_the_seed_figures() -> None:
    assert by_id("databases.failover").threshold.describe() == "recovery < 30 s"
    assert by_id("stability.soak").threshold.describe() == "covered time >= 48 h"
    assert by_id("stability.resource_headroom").threshold.describe() == "peak CPU and memory < 70 %"
    assert by_id("applications.traffic_split").threshold.value == "70/30"


def test_ini_overrides_replace_only_the_named_threshold() -> None:
    catalog = with_overrides({"gate1_failover_max_recovery_s": "20", "gate1_soak_min_hours": ""})
    assert by_id("databases.failover", catalog).threshold.value == 20.0
    assert by_id("stability.soak", catalog).threshold.value == 48.0


def test_a_non_numeric_override_is_refused_with_the_option_name() -> None:
    with pytest.raises(ValueError, match="gate1_failover_max_recovery_s must be a number"):
        with_overrides({"gate1_failover_max_recovery_s": "fast"})


def test_an_unknown_id_names_the_valid_ones() -> None:
    with pytest.raises(UnknownCriterion) as info:
        by_id("security.nonroot")
    assert "security.non_root" in str(info.value)
