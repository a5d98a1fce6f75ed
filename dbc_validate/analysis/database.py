"""Database rules for CloudNativePG Clusters: instance count, synchronous replication, pinned image."""

from __future__ import annotations

from collections.abc import Mapping

from dbc_validate.analysis.cluster_model import CNPG_GROUP, ClusterModel
from dbc_validate.analysis.container_ports import as_int
from dbc_validate.analysis.findings import Finding, finding
from dbc_validate.analysis.images import parse_image

DEFAULT_MIN_INSTANCES = 3


def _synchronous(spec: Mapping[str, object]) -> bool:
    postgresql = spec.get("postgresql")
    synchronous = postgresql.get("synchronous") if isinstance(postgresql, Mapping) else None
    if isinstance(synchronous, Mapping) and as_int(synchronous.get("number"), 0) >= 1:
        return True
    # The pre-1.24 form, still accepted: minSyncReplicas/maxSyncReplicas.
    return as_int(spec.get("minSyncReplicas"), 0) >= 1


def database_findings(model: ClusterModel, min_instances: int = DEFAULT_MIN_INSTANCES) -> list[Finding]:
    manifests = model.manifests
    if manifests is None:
        return []
    findings = []
    for cluster in manifests.of_kind("Cluster", group=CNPG_GROUP):
        spec = cluster.spec
        instances = as_int(spec.get("instances"), 1)
        if instances < min_instances:
            message = f"{instances} instance(s): a failover needs a replica to promote; Gate 1 asks {min_instances}"
            findings.append(finding("database.cnpg-instances", cluster.ref, message))
        if not _synchronous(spec):
            message = (
                "no spec.postgresql.synchronous: replication is asynchronous, so a failover can lose writes the "
                "primary already acknowledged"
            )
            findings.append(finding("database.cnpg-no-sync-replication", cluster.ref, message))
        image_name = str(spec.get("imageName") or "")
        if image_name and parse_image(image_name).unpinned:
            message = f"imageName {image_name} is not pinned to a version tag"
            findings.append(finding("database.cnpg-image-latest", cluster.ref, message))
    return findings
