"""The Gate 1 catalog: every criterion of the migration's Gate 1 checklist, by stable id.

Every layer refers to criteria by these ids; the report is built from this list, so a criterion
without a test shows as NOT_COVERED instead of disappearing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from dbc_validate.scope import Scope


@dataclass(frozen=True)
class Threshold:
    """A figure a criterion must reach, e.g. recovery < 30 s; `ini` names the option that overrides it."""

    quantity: str
    op: str  # one of "<", "<=", ">=", "=="
    value: float | str
    unit: str
    ini: str

    def describe(self) -> str:
        value = f"{self.value:g}" if isinstance(self.value, float) else str(self.value)
        return f"{self.quantity} {self.op} {value} {self.unit}".strip()

    def with_value(self, raw: str) -> Threshold:
        """This threshold with its value replaced by an ini override (validated)."""
        if isinstance(self.value, float):
            try:
                return replace(self, value=float(raw))
            except ValueError:
                raise ValueError(f"ini option {self.ini} must be a number, got {raw!r}") from None
        return replace(self, value=raw.strip())


@dataclass(frozen=True)
class Criterion:
    id: str
    area: str
    title: str
    threshold: Threshold | None = None
    required_scope: Scope = Scope.CLUSTER


AREAS = ("infrastructure", "security", "databases", "applications", "observability", "stability")


def _c(id_: str, title: str, threshold: Threshold | None = None) -> Criterion:
    return Criterion(id=id_, area=id_.split(".", 1)[0], title=title, threshold=threshold)


# Titles follow the seed's "Success Criteria (Gate 1)" list; traffic_split comes from the migration's
# 70/30 prod/stage plan.
CATALOG: tuple[Criterion, ...] = (
    _c("infrastructure.nodes_ready", "3-node k3s cluster healthy (or 1 node for dev), all masters Ready"),
    _c("infrastructure.control_plane_quorum", "etcd quorum maintained"),
    _c("infrastructure.storage_provisioning", "Storage class provisioning PVCs (Longhorn in production)"),
    _c("security.sealed_secrets", "SealedSecrets decrypting correctly"),
    _c("security.rbac", "RBAC preventing unauthorized access"),
    _c("security.network_policies", "NetworkPolicies blocking unexpected traffic"),
    _c("security.non_root", "All containers running as non-root"),
    _c(
        "databases.cnpg_healthy",
        "CloudNativePG cluster: 3 instances healthy",
        Threshold("instances", ">=", 3.0, "", "gate1_cnpg_min_instances"),
    ),
    _c(
        "databases.failover",
        "Failover tested (<30s recovery)",
        Threshold("recovery", "<", 30.0, "s", "gate1_failover_max_recovery_s"),
    ),
    _c("databases.cjk_parser", "CJK parser smoke tests passing"),
    _c("databases.mysql_healthy", "MySQL StatefulSet healthy"),
    _c("applications.wordpress_accessible", "At least 1 app deployed and accessible (WordPress)"),
    _c("applications.database_connectivity", "Database connectivity working"),
    _c("applications.persistent_storage", "Persistent storage working"),
    _c("applications.logs_metrics_visible", "Logs and metrics visible"),
    _c(
        "applications.traffic_split",
        "Traffic split between prod and stage as declared",
        Threshold("prod/stage split", "==", "70/30", "", "gate1_traffic_split"),
    ),
    _c("observability.prometheus_targets", "Prometheus scraping all targets"),
    _c("observability.grafana_dashboards", "Grafana dashboards showing data"),
    _c("observability.loki_logs", "Loki receiving logs"),
    _c("observability.no_critical_alerts", "No critical alerts firing"),
    _c(
        "stability.soak",
        "Cluster stable for 48+ hours",
        Threshold("covered time", ">=", 48.0, "h", "gate1_soak_min_hours"),
    ),
    _c("stability.no_crashloops", "No pods crashlooping"),
    _c(
        "stability.resource_headroom",
        "Resource usage <70% CPU/memory",
        Threshold("peak CPU and memory", "<", 70.0, "%", "gate1_resource_max_percent"),
    ),
)

IDS: tuple[str, ...] = tuple(c.id for c in CATALOG)


class UnknownCriterion(KeyError):
    def __init__(self, criterion_id: str) -> None:
        super().__init__(criterion_id)
        self.criterion_id = criterion_id

    def __str__(self) -> str:
        return f"unknown Gate 1 criterion {self.criterion_id!r}; valid ids: {', '.join(IDS)}"


def by_id(criterion_id: str, catalog: tuple[Criterion, ...] = CATALOG) -> Criterion:
    for criterion in catalog:
        if criterion.id == criterion_id:
            return criterion
    raise UnknownCriterion(criterion_id)


def threshold_ini_options() -> dict[str, Threshold]:
    return {c.threshold.ini: c.threshold for c in CATALOG if c.threshold is not None}


def with_overrides(overrides: Mapping[str, str], catalog: tuple[Criterion, ...] = CATALOG) -> tuple[Criterion, ...]:
    """The catalog with thresholds replaced by the non-empty ini overrides given (keyed by ini name)."""
    result = []
    for criterion in catalog:
        threshold = criterion.threshold
        if threshold is not None and overrides.get(threshold.ini, "").strip():
            criterion = replace(criterion, threshold=threshold.with_value(overrides[threshold.ini]))
        result.append(criterion)
    return tuple(result)


def criteria_of(item: Any) -> tuple[str, ...]:
    """Criterion ids from every gate1 marker on a pytest item (function, class, module), first seen first.

    Here rather than in the plugin so that `dbc-validate plan` reads tests the same way without importing it."""
    ids: list[str] = []
    for marker in reversed(list(item.iter_markers("gate1"))):
        for arg in marker.args:
            if arg not in ids:
                ids.append(arg)
    return tuple(ids)
