"""One entry point: every rule on a manifest set, returning findings and a summary.

Contract: `analyze(manifest_set, *, expected_split="70/30", kube_version="1.36") -> AnalysisResult(findings,
summary)`. Results are remembered per ManifestSet object (by identity), so several suites judging the
same set pay for the analysis once.
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from dbc_validate.analysis.addons import AddonPod
from dbc_validate.analysis.cluster_model import build_model
from dbc_validate.analysis.database import DEFAULT_MIN_INSTANCES, database_findings
from dbc_validate.analysis.findings import Finding, Severity, count_by, sort_findings
from dbc_validate.analysis.images import image_findings
from dbc_validate.analysis.ingress import DEFAULT_SPLIT, format_shares, ingress_findings, parse_split
from dbc_validate.analysis.namespaces import namespace_findings
from dbc_validate.analysis.netpol.rules import network_policy_findings
from dbc_validate.analysis.observability import PromQLVerdicts, observability_findings
from dbc_validate.analysis.pod_security import pod_security_findings
from dbc_validate.analysis.rbac import rbac_findings
from dbc_validate.analysis.schema import DEFAULT_KUBE_VERSION, schema_findings
from dbc_validate.analysis.scrape_targets import with_prometheus_pods
from dbc_validate.analysis.secrets import secret_findings
from dbc_validate.analysis.unreadable import READ_ERRORS, unreadable
from dbc_validate.errors import InputError
from dbc_validate.manifests.model import ManifestSet


@dataclass(frozen=True)
class AnalysisResult:
    findings: tuple[Finding, ...]
    summary: dict[str, Any]

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity is Severity.ERROR]

    def of_category(self, *categories: str, severity: Severity | None = None) -> list[Finding]:
        return [f for f in self.findings if f.category in categories and (severity is None or f.severity is severity)]

    def of_rule(self, *rules: str) -> list[Finding]:
        return [f for f in self.findings if f.rule in rules]

    def warnings(self, *categories: str) -> list[str]:
        """Warning findings of the categories as one-line notes ("rule object: message") for evidence."""
        return [f"{f.rule} {f.object}: {f.message}" for f in self.of_category(*categories, severity=Severity.WARNING)]

    def as_dict(self) -> dict[str, Any]:
        return {"findings": [f.as_dict() for f in self.findings], "summary": self.summary}


def expected_shares(expected_split: str | Sequence[Fraction]) -> tuple[Fraction, ...]:
    if isinstance(expected_split, str):
        try:
            return parse_split(expected_split)
        except ValueError as exc:
            raise InputError(str(exc), "give the expected split as shares separated by '/', e.g. 70/30") from None
    return tuple(sorted((Fraction(s) for s in expected_split), reverse=True))


_MEMO: dict[int, tuple[weakref.ref[ManifestSet], dict[tuple[Any, ...], AnalysisResult]]] = {}


def _memo(manifests: ManifestSet) -> dict[tuple[Any, ...], AnalysisResult]:
    key = id(manifests)
    entry = _MEMO.get(key)
    if entry is None or entry[0]() is not manifests:
        entry = (weakref.ref(manifests, lambda _: _MEMO.pop(key, None)), {})
        _MEMO[key] = entry
    return entry[1]


def analyze(
    manifest_set: ManifestSet,
    *,
    expected_split: str | Sequence[Fraction] = DEFAULT_SPLIT,
    kube_version: str = DEFAULT_KUBE_VERSION,
    min_instances: int = DEFAULT_MIN_INSTANCES,
    addons: Sequence[AddonPod] | None = None,
    promql: PromQLVerdicts | None = None,
) -> AnalysisResult:
    """Every rule's findings on `manifest_set` (sorted: errors first) and a summary.

    addons=None uses dbc_validate/data/addons.yaml (see cluster_model.build_model). promql: promtool's verdicts
    on the set's rules and dashboard queries (probes/promql_check.py); None reports them as not checked.
    Raises InputError for a bad expected_split or an unsupported kube_version.
    """
    shares = expected_shares(expected_split)
    memo_key = (shares, kube_version, min_instances, None if addons is None else tuple(addons), promql)
    memo = _memo(manifest_set)
    if memo_key in memo:
        return memo[memo_key]
    try:
        # Prometheus's pods join the model so policies admitting it are judged against them (scrape_targets.py).
        model = with_prometheus_pods(build_model(manifest_set, addons))
        findings = sort_findings(
            [
                *schema_findings(manifest_set.objects, kube_version),
                *namespace_findings(model),
                *pod_security_findings(model),
                *image_findings(model),
                *network_policy_findings(model),
                *rbac_findings(model),
                *secret_findings(model),
                *ingress_findings(model, shares),
                *database_findings(model, min_instances),
                *observability_findings(model, promql),
            ]
        )
    except READ_ERRORS as exc:
        raise unreadable(manifest_set, exc, kube_version) from exc
    by_severity = count_by(findings, "severity")
    summary = {
        "passed": by_severity.get("error", 0) == 0,
        "errors": by_severity.get("error", 0),
        "warnings": by_severity.get("warning", 0),
        "infos": by_severity.get("info", 0),
        "by_category": count_by(findings, "category"),
        "by_rule": count_by(findings, "rule"),
        "objects": len(manifest_set),
        "workloads": len(model.manifest_workloads),
        "containers": sum(len(w.containers) for w in model.manifest_workloads),
        "namespaces": len({w.namespace for w in model.manifest_workloads}),
        "network_policies": len(model.network_policies),
        "source": str(manifest_set.source),
        "expected_split": format_shares(shares),
        "kube_version": kube_version,
    }
    result = AnalysisResult(tuple(findings), summary)
    memo[memo_key] = result
    return result
