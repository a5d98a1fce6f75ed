"""The local observability lab's configuration, derived from the set: scrape jobs (one per predicted monitor
endpoint, mapped onto a local stand-in), the set's rule groups at a 1 s interval, and Alertmanager's. Pure.

Stand-ins: the ingress controller's metrics port is a local Traefik's metrics entry point; a CloudNativePG
instance's metrics port (9187) is Debian's postgres exporter over a lab PostgreSQL. A target with no stand-in
is listed as not provable locally. Job labels follow the Prometheus Operator (a PodMonitor's job is
"<namespace>/<name>", a ServiceMonitor's the Service name), so the set's rules mean the same here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import yaml

from dbc_validate.analysis.cluster_model import ClusterModel
from dbc_validate.analysis.monitoring import RuleResource, prometheus_instances, rule_resources
from dbc_validate.analysis.scrape_targets import ScrapeTarget

TRAEFIK = "traefik"
POSTGRES_EXPORTER = "postgres-exporter"
NODE_EXPORTER = "node-exporter"
CNPG_METRICS_PORT = 9187
LAB_INTERVAL = "1s"


@dataclass(frozen=True)
class LabJob:
    """One scrape pool of the lab's Prometheus, standing in for one predicted target."""

    pool: str  # job_name, as the operator names it: podMonitor/<ns>/<name>/<endpoint>
    job: str  # the `job` label the operator would give
    standin: str  # TRAEFIK | POSTGRES_EXPORTER
    path: str
    target: ScrapeTarget

    def describe(self) -> str:
        where = f"{self.target.workload}:{self.target.port}{self.path}"
        return f"{self.pool} (job {self.job!r}): {where} -> local {self.standin}"


def pool_name(target: ScrapeTarget) -> str:
    kind, namespace, name = target.monitor.split("/", 2)
    return f"{kind[0].lower()}{kind[1:]}/{namespace}/{name}/{target.endpoint}"


def standin_for(model: ClusterModel, target: ScrapeTarget) -> str | None:
    if not model.has(target.workload):
        return None
    workload = model.workload(target.workload)
    if workload.role == "ingress-controller" and target.port_name == "metrics":
        return TRAEFIK
    if workload.operator_managed and target.port == CNPG_METRICS_PORT:
        return POSTGRES_EXPORTER
    return None


def lab_jobs(model: ClusterModel, targets: Sequence[ScrapeTarget]) -> tuple[tuple[LabJob, ...], tuple[str, ...]]:
    """The lab's scrape pools for the predicted targets, and the targets no local stand-in can serve."""
    jobs: dict[str, LabJob] = {}
    unmapped = []
    for target in targets:
        standin = standin_for(model, target)
        if standin is None:
            unmapped.append(f"{target.monitor} endpoint {target.endpoint} -> {target.workload}:{target.port}")
            continue
        pool = pool_name(target)
        jobs.setdefault(pool, LabJob(pool, target.job, standin, target.path, target))
    return tuple(jobs.values()), tuple(unmapped)


def selected_rules(model: ClusterModel) -> tuple[RuleResource, ...]:
    """The set's PrometheusRules that one of its Prometheus instances loads."""
    if model.manifests is None:
        return ()
    instances = prometheus_instances(model.manifests)
    return tuple(
        r
        for r in rule_resources(model.manifests)
        if any(p.selects(r.obj, model.namespace_labels(r.obj.namespace or "default")) for p in instances)
    )


def lab_rule_file(resource: RuleResource) -> str:
    """The PrometheusRule's groups with a 1 s evaluation interval (`for:` durations are kept as declared)."""
    data = yaml.safe_load(resource.rule_file) or {}
    for group in data.get("groups") or []:
        if isinstance(group, dict):
            group["interval"] = LAB_INTERVAL
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def prometheus_config(
    jobs: Sequence[LabJob],
    addresses: Mapping[str, str],
    *,
    alertmanager: str,
    rule_files: Sequence[str],
    extra_jobs: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """prometheus.yml for the lab: 1 s scrapes and evaluations, Alertmanager wired, each job on its stand-in."""
    scrape_configs: list[dict[str, Any]] = []
    for job in jobs:
        scrape_configs.append(
            {
                "job_name": job.pool,
                "metrics_path": job.path,
                "scheme": job.target.scheme,
                "static_configs": [{"targets": [addresses[job.standin]]}],
                # The operator's job label, so the set's rules and dashboards select these series.
                "relabel_configs": [{"target_label": "job", "replacement": job.job}],
            }
        )
    for name, address in (extra_jobs or {}).items():
        scrape_configs.append({"job_name": name, "static_configs": [{"targets": [address]}]})
    return {
        "global": {
            "scrape_interval": LAB_INTERVAL,
            "scrape_timeout": LAB_INTERVAL,
            "evaluation_interval": LAB_INTERVAL,
        },
        "rule_files": list(rule_files),
        "alerting": {"alertmanagers": [{"static_configs": [{"targets": [alertmanager]}]}]},
        "scrape_configs": scrape_configs,
    }


# A receiver without integrations: Alertmanager keeps and lists the alerts, and sends nothing anywhere.
ALERTMANAGER_CONFIG: Mapping[str, Any] = {
    "route": {"receiver": "lab", "group_wait": "1s", "group_interval": "1s", "repeat_interval": "1h"},
    "receivers": [{"name": "lab"}],
}
