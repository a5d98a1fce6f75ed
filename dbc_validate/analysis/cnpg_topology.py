"""CloudNativePG facts the failover suite needs, from manifests or live objects (pure).

Declared durability (spec.postgresql.synchronous), the topology a Cluster's status reports (currentPrimary,
targetPrimary, phase) and when a trial may start, the writer pod that reaches `<cluster>-rw` from inside the
cluster, and the status patch CloudNativePG's own `promote` uses for a switchover. Which Clusters the set
declares, their instance pods and their credentials are decided in analysis.live.cnpg_instances.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from dbc_validate.analysis.failover_log import LOG_HEADER, short_label
from dbc_validate.analysis.live.cnpg_instances import (
    CNPG_GROUP,
    POSTGRES_PORT,
    InstanceList,
    cnpg_cluster_objects,
)
from dbc_validate.analysis.live.harness_policies import HARNESS_LABELS
from dbc_validate.capabilities import TopologyEvent

API_VERSION = f"{CNPG_GROUP}/v1"
PHASE_HEALTHY = "Cluster in healthy state"
PHASE_FAILOVER = "Failing over"
PHASE_SWITCHOVER = "Switchover in progress"
POSTGRES_CONTAINER = "postgres"
WRITER_NAME = "dbc-failover-writer"  # app.kubernetes.io/name of every writer pod
WRITER_RUN_LABEL = "dbc-validate/failover-run"  # the trial's run id: one writer's own selector


# ---- declared durability -------------------------------------------------------------------------------


@dataclass(frozen=True)
class DeclaredDurability:
    """What the manifest set promises about acknowledged writes surviving a failover."""

    cluster: str | None  # "namespace/name" of the CNPG Cluster judged, None when the set has none
    synchronous: bool
    method: str | None = None  # any | first (spec.postgresql.synchronous.method)
    number: int = 0
    required: bool = False  # dataDurability required (the default when synchronous is set)
    source: str = ""  # which fields said so

    def describe(self) -> str:
        if self.cluster is None:
            return "no CloudNativePG Cluster in the manifest set (asynchronous assumed)"
        if not self.synchronous:
            return f"{self.cluster} declares asynchronous replication ({self.source})"
        durability = "required" if self.required else "preferred"
        return (
            f"{self.cluster} declares synchronous replication ({self.method} {self.number}, "
            f"dataDurability {durability}; {self.source})"
        )


def _spec(cluster: Any) -> Mapping[str, Any]:
    body = getattr(cluster, "body", cluster)
    return (body or {}).get("spec") or {}


def _ref(cluster: Any) -> str:
    body = getattr(cluster, "body", cluster) or {}
    meta = body.get("metadata") or {}
    return f"{meta.get('namespace') or 'default'}/{meta.get('name', '?')}"


def declared_durability(cluster: Any) -> DeclaredDurability:
    """Durability declared by one CNPG Cluster (a K8sObject or its body).

    `spec.postgresql.synchronous` (method any|first, number >= 1, dataDurability required by default)
    is the current API. The legacy `minSyncReplicas`/`maxSyncReplicas` pair counts as synchronous, with
    required durability only when minSyncReplicas >= 1 (writes then wait for a standby).
    """
    ref = _ref(cluster)
    spec = _spec(cluster)
    postgresql = spec.get("postgresql") or {}
    sync = postgresql.get("synchronous")
    if isinstance(sync, Mapping) and int(sync.get("number") or 0) >= 1:
        durability = str(sync.get("dataDurability") or "required")
        return DeclaredDurability(
            ref,
            True,
            str(sync.get("method") or "any"),
            int(sync["number"]),
            durability == "required",
            "spec.postgresql.synchronous",
        )
    max_sync = int(spec.get("maxSyncReplicas") or 0)
    if max_sync >= 1:
        min_sync = int(spec.get("minSyncReplicas") or 0)
        return DeclaredDurability(
            ref, True, "any", max_sync, min_sync >= 1, f"legacy minSyncReplicas {min_sync}/maxSyncReplicas {max_sync}"
        )
    return DeclaredDurability(ref, False, source="no spec.postgresql.synchronous")


def durability_of_set(objects: Iterable[Any]) -> DeclaredDurability:
    """Durability of the set's first CNPG Cluster (the Gate 1 set has exactly one)."""
    clusters = cnpg_cluster_objects(objects)
    return declared_durability(clusters[0]) if clusters else DeclaredDurability(None, False)


# ---- topology from live objects ------------------------------------------------------------------------


@dataclass(frozen=True)
class ClusterStatus:
    current_primary: str | None
    target_primary: str | None
    phase: str
    ready_instances: int
    instances: int
    healthy_pods: tuple[str, ...] = ()

    def healthy(self) -> bool:
        return (
            self.phase == PHASE_HEALTHY
            and self.instances > 0
            and self.ready_instances == self.instances
            and self.current_primary is not None
            and self.current_primary == self.target_primary
        )

    def summary(self) -> str:
        return (
            f"phase={self.phase!r} currentPrimary={self.current_primary} targetPrimary={self.target_primary} "
            f"ready={self.ready_instances}/{self.instances}"
        )

    def label(self) -> str:
        if self.phase == PHASE_FAILOVER:
            return short_label(f"failover: {self.target_primary}")
        if self.phase == PHASE_SWITCHOVER:
            return short_label(f"switchover: {self.target_primary}")
        if self.phase == PHASE_HEALTHY:
            return short_label(f"primary {self.current_primary}")
        return short_label(f"{self.phase or 'no phase'}; primary {self.current_primary}")


def cluster_status(cluster: Mapping[str, Any]) -> ClusterStatus:
    """The topology a live Cluster object reports in its status."""
    status = cluster.get("status") or {}
    healthy_pods = (status.get("instancesStatus") or {}).get("healthy") or []
    return ClusterStatus(
        current_primary=status.get("currentPrimary") or None,
        target_primary=status.get("targetPrimary") or None,
        phase=str(status.get("phase") or ""),
        ready_instances=int(status.get("readyInstances") or 0),
        instances=int(status.get("instances") or (cluster.get("spec") or {}).get("instances") or 0),
        healthy_pods=tuple(str(p) for p in healthy_pods),
    )


def observation(status: ClusterStatus, at: float) -> TopologyEvent:
    """A topology observation for the trial log; the primary is the one the status calls current."""
    return TopologyEvent(at, status.current_primary, status.label(), status.summary())


def unready_reason(status: ClusterStatus, instances: InstanceList) -> str | None:
    """Why a trial may not start yet (None: it may): the Cluster's status must say healthy, every instance pod
    must be there and ready, and exactly the status's current primary must be labelled primary."""
    if not status.healthy():
        return status.summary()
    if instances.problems:
        return "; ".join(instances.problems)
    primaries = [i.pod for i in instances.instances if i.role == "primary"]
    if primaries != [status.current_primary]:
        return f"pods labelled primary {primaries} while the status says {status.current_primary}"
    return None


def switchover_candidate(status: ClusterStatus) -> str | None:
    """A healthy instance other than the current primary (what `kubectl cnpg promote` would be given)."""
    return next((p for p in sorted(status.healthy_pods) if p != status.current_primary), None)


def switchover_status_patch(target: str, timestamp: str) -> dict[str, Any]:
    """The status patch CloudNativePG's `promote` applies: new targetPrimary, phase Switchover in progress."""
    return {
        "status": {
            "targetPrimary": target,
            "targetPrimaryTimestamp": timestamp,
            "phase": PHASE_SWITCHOVER,
            "phaseReason": f"Switching over to {target}",
        }
    }


# ---- the in-cluster writer -----------------------------------------------------------------------------

RUN_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,40}$")

# bash + psql from the cluster's own PostgreSQL image: one connection per attempt through the -rw Service,
# the same log format as the local writer, then the present rows read back through -rw.
WRITER_SCRIPT = r"""
set -u
stop="${STOP_FILE:-/work/stop}"
conn="connect_timeout=2 tcp_user_timeout=1000 keepalives_idle=1 keepalives_interval=1 keepalives_count=2"
conn="$conn target_session_attrs=read-write application_name=dbc_failover_writer"
export PGOPTIONS="-c statement_timeout=1000"
echo "__HEADER__"
echo "# run $RUN_ID"
until psql "$conn" -qAtX -c "__CREATE__" >/dev/null 2>&1; do
  [ -e "$stop" ] && exit 0
  sleep 0.5
done
seq=1; try=1
while [ ! -e "$stop" ]; do
  sent=$(date +%s.%N)
  out=$(psql "$conn" -qAtX -c "__INSERT__" 2>&1)
  rc=$?
  finished=$(date +%s.%N)
  out=$(printf '%s' "$out" | tr '\t\r\n' '   ' | cut -c1-300)
  if [ "$rc" -eq 0 ]; then
    printf 'attempt\t%s\t%s\t%s\t%s\tack\t%s\n' "$seq" "$try" "$sent" "$finished" "$out"
    seq=$((seq + 1)); try=1
  else
    printf 'attempt\t%s\t%s\t%s\t%s\terror\t%s\n' "$seq" "$try" "$sent" "$finished" "$out"
    try=$((try + 1))
  fi
  sleep 0.02
done
echo "# stopped"
"""


def writer_script(table: str, create_sql: str) -> str:
    insert = (
        f"INSERT INTO {table} (run_id, seq, attempt, sent_at) VALUES ('$RUN_ID', $seq, $try, $sent) "
        "RETURNING coalesce(host(inet_server_addr()), 'local') || ':' || coalesce(inet_server_port()::text, '')"
    )
    return (
        WRITER_SCRIPT.replace("__HEADER__", LOG_HEADER)
        .replace("__CREATE__", create_sql.replace('"', '\\"'))
        .replace("__INSERT__", insert.replace('"', '\\"'))
    )


def present_query(table: str, run_id: str) -> str:
    """SQL printing `present<TAB>seq<TAB>count` lines (psql -AtX -F tab), the writer log's reader format."""
    if not RUN_ID.match(run_id):
        raise ValueError(f"run id {run_id!r} must match {RUN_ID.pattern}")
    return f"SELECT 'present', seq, count(*) FROM {table} WHERE run_id = '{run_id}' GROUP BY seq ORDER BY seq"


def writer_labels(run_id: str) -> dict[str, str]:
    """The labels of one trial's writer pod; its NetworkPolicies select it by them."""
    return {"app.kubernetes.io/name": WRITER_NAME, **HARNESS_LABELS, WRITER_RUN_LABEL: run_id}


def writer_pod(
    *,
    name: str,
    namespace: str,
    cluster: str,
    image: str,
    secret: str,
    database: str,
    run_id: str,
    script: str,
    deadline_s: int = 900,
) -> dict[str, Any]:
    """A short-lived Pod running the writer against `<cluster>-rw`, compliant with Pod Security `restricted`.

    User and password come from `secret` (the owner's, else the superuser's, as the `postgres` capability picks
    it), so no password is in the manifest; the database name is not secret and is given as is.
    """
    if not RUN_ID.match(run_id):
        raise ValueError(f"run id {run_id!r} must match {RUN_ID.pattern}")

    def from_secret(key: str) -> dict[str, Any]:
        return {"secretKeyRef": {"name": secret, "key": key}}

    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace, "labels": writer_labels(run_id)},
        "spec": {
            "restartPolicy": "Never",
            "activeDeadlineSeconds": deadline_s,  # a writer the harness lost track of still goes away
            "terminationGracePeriodSeconds": 1,
            "automountServiceAccountToken": False,  # it talks to PostgreSQL only
            "securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
            "containers": [
                {
                    "name": "writer",
                    "image": image,
                    "command": ["bash", "-c", script],
                    "env": [
                        {"name": "RUN_ID", "value": run_id},
                        {"name": "PGHOST", "value": f"{cluster}-rw"},
                        {"name": "PGPORT", "value": str(POSTGRES_PORT)},
                        {"name": "PGUSER", "valueFrom": from_secret("username")},
                        {"name": "PGPASSWORD", "valueFrom": from_secret("password")},
                        {"name": "PGDATABASE", "value": database},
                        {"name": "PGSSLMODE", "value": "prefer"},
                    ],
                    "securityContext": {
                        "allowPrivilegeEscalation": False,
                        "capabilities": {"drop": ["ALL"]},
                        "runAsNonRoot": True,
                        "runAsUser": 26,  # the postgres user of the CloudNativePG images
                    },
                    "resources": {"requests": {"cpu": "50m", "memory": "32Mi"}, "limits": {"memory": "128Mi"}},
                    "volumeMounts": [{"name": "work", "mountPath": "/work"}],
                }
            ],
            "volumes": [{"name": "work", "emptyDir": {}}],
        },
    }


def exec_psql(database: str, sql: str) -> list[str]:
    """argv (after `kubectl exec POD -c postgres --`) running `sql` as the local superuser over the socket."""
    return ["psql", "-d", database, "-AtX", "-F", "\t", "-c", sql]
