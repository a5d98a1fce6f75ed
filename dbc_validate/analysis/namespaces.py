"""Namespace rules: every namespace running the set's workloads enforces Pod Security restricted."""

from __future__ import annotations

from dbc_validate.analysis.cluster_model import ClusterModel
from dbc_validate.analysis.findings import Finding, finding

ENFORCE_LABEL = "pod-security.kubernetes.io/enforce"


def namespace_findings(model: ClusterModel) -> list[Finding]:
    findings = []
    used = sorted({w.namespace for w in model.manifest_workloads})
    for name in used:
        namespace = model.namespaces[name]
        ref = namespace.obj.ref if namespace.obj is not None else f"Namespace/{name}"
        level = namespace.labels.get(ENFORCE_LABEL)
        if namespace.obj is None:
            findings.append(
                finding(
                    "namespace.pss-enforce-missing",
                    ref,
                    f"namespace {name} runs workloads but the set does not declare it, so nothing enforces Pod "
                    "Security there",
                    fix=f"add a Namespace {name} labelled {ENFORCE_LABEL}=restricted",
                )
            )
        elif level is None:
            findings.append(
                finding(
                    "namespace.pss-enforce-missing", ref, f"namespace {name} runs workloads without {ENFORCE_LABEL}"
                )
            )
        elif level != "restricted":
            findings.append(finding("namespace.pss-enforce-weak", ref, f"namespace {name} enforces {level!r}"))
    return findings
