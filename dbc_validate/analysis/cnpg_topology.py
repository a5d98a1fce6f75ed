"""CloudNativePG facts the failover suite needs, from manifests or live objects (pure).

Declared durability (spec.postgresql.synchronous), the topology a Cluster's status reports (currentPrimary,
targetPrimary, phase), the primary pod by its labels, the writer pod that reaches `<cluster>-rw` from
inside the cluster, and the status patch CloudNativePG's own `promote` uses for a switchover.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from dbc_validate.analysis.failover_log import LOG_HEADER, TopologyEvent, short_label

GROUP = "postgresql.cnpg.io"
API_VERSION = f"{GROUP}/v1"
PHASE_HEALTHY = "Cluster in healthy state"
PHASE_FAILOVER = "Failing over"
PHASE_SWITCHOVER = "Switchover in progress"
LABEL_CLUSTER = "cnpg.io/cluster"
LABEL_INSTANCE_ROLE = "cnpg.io/instanceRole"
LABEL_LEGACY_ROLE = "role"  # deprecated, still set by 1.2x operators
LABEL_POD_ROLE = "cnpg.io/podRole"
POSTGRES_CONTAINER = "postgres"
DEFAULT_IMAGE = "ghcr.io/cloudnative-pg/postgresql:15"
DEFAULT_DATABASE = "app"


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


def cnpg_clusters(objects: Iterable[Any]) -> list[Any]:
    """The CloudNativePG Cluster objects of a manifest set, in document order."""
    return [o for o in objects if o.kind == "Cluster" and o.group == GROUP]


def durability_of_set(objects: Iterable[Any]) -> DeclaredDurability:
    """Durability of the set's first CNPG Cluster (the Gate 1 set has exactly one)."""
    clusters = cnpg_clusters(objects)
    return declared_durability(clusters[0]) if clusters else DeclaredDurability(None, False)


def app_database(cluster: Any) -> str:
    initdb = ((_spec(cluster).get("bootstrap") or {}).get("initdb")) or {}
    return str(initdb.get("database") or DEFAULT_DATABASE)


def app_secret(cluster: Any) -> str:
    """The Secret an application uses: bootstrap.initdb.secret.name, else `<cluster>-app`."""
    initdb = ((_spec(cluster).get("bootstrap") or {}).get("initdb")) or {}
    name = (initdb.get("secret") or {}).get("name")
    return str(name) if name else f"{_ref(cluster).split('/', 1)[1]}-app"


def cluster_image(cluster: Any) -> str:
    return str(_spec(cluster).get("imageName") or DEFAULT_IMAGE)


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


def _labels(pod: Mapping[str, Any]) -> Mapping[str, str]:
    return (pod.get("metadata") or {}).get("labels") or {}


def primary_pods(pods: Sequence[Mapping[str, Any]], cluster: str) -> list[str]:
    """Names of the cluster's live pods labelled primary (cnpg.io/instanceRole, else the legacy `role`)."""
    found = []
    for pod in pods:
        labels = _labels(pod)
        if labels.get(LABEL_CLUSTER) != cluster or (pod.get("metadata") or {}).get("deletionTimestamp"):
            continue
        role = labels.get(LABEL_INSTANCE_ROLE) or labels.get(LABEL_LEGACY_ROLE)
        if role == "primary":
            found.append(str(pod["metadata"]["name"]))
    return sorted(found)


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


def writer_pod(
    *,
    name: str,
    namespace: str,
    cluster: str,
    image: str,
    secret: str,
    run_id: str,
    script: str,
    labels: Mapping[str, str] | None = None,
    deadline_s: int = 900,
) -> dict[str, Any]:
    """A short-lived Pod running the writer against `<cluster>-rw`, compliant with Pod Security `restricted`."""
    if not RUN_ID.match(run_id):
        raise ValueError(f"run id {run_id!r} must match {RUN_ID.pattern}")

    def from_secret(key: str) -> dict[str, Any]:
        return {"secretKeyRef": {"name": secret, "key": key}}

    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": {
                "app.kubernetes.io/name": "dbc-failover-writer",
                "app.kubernetes.io/part-of": "dbc-validate",
                **(labels or {}),
            },
        },
        "spec": {
            "restartPolicy": "Never",
            "activeDeadlineSeconds": deadline_s,  # a writer the harness lost track of still goes away
            "terminationGracePeriodSeconds": 1,
            "securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
            "containers": [
                {
                    "name": "writer",
                    "image": image,
                    "command": ["bash", "-c", script],
                    "env": [
                        {"name": "RUN_ID", "value": run_id},
                        {"name": "PGHOST", "value": f"{cluster}-rw"},
                        {"name": "PGPORT", "value": "5432"},
                        {"name": "PGUSER", "valueFrom": from_secret("username")},
                        {"name": "PGPASSWORD", "valueFrom": from_secret("password")},
                        {"name": "PGDATABASE", "valueFrom": from_secret("dbname")},
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
