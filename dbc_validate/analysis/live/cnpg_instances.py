"""The PostgreSQL instances of a live CloudNativePG cluster and how to log in to them (pure).

The manifest set names the Clusters; the operator's pods carry `cnpg.io/cluster=<cluster>`,
`cnpg.io/podRole=instance` and `cnpg.io/instanceRole=primary|replica` (the legacy `role` label as a
fallback). Credentials come from the Secret the operator generates for the application owner
(`<cluster>-app`, or the `bootstrap.initdb.secret` the Cluster names), else the superuser Secret.
The `postgres` capability and the failover suite's CNPG path both ask these questions here.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from dbc_validate.analysis.live.pods import Obj, is_ready, labels_of, meta, name_of, namespace_of, phase
from dbc_validate.manifests.model import K8sObject

CNPG_GROUP = "postgresql.cnpg.io"
CLUSTER_LABEL = "cnpg.io/cluster"
ROLE_LABELS = ("cnpg.io/instanceRole", "role")  # the second is the deprecated legacy label
DEFAULT_DATABASE = "app"  # CloudNativePG's initdb default
DEFAULT_IMAGE = "ghcr.io/cloudnative-pg/postgresql:15"  # used when the Cluster names no imageName
POSTGRES_PORT = 5432  # every instance's PostgreSQL port (the -rw/-ro/-r Services' target too)
ANY_DATABASE = "*"  # the superuser Secret's dbname: no database in particular


@dataclass(frozen=True)
class CnpgCluster:
    """A CloudNativePG Cluster of the manifest set, with what the harness needs to reach its instances."""

    namespace: str
    name: str
    instances: int
    database: str
    app_secret: str
    superuser_secret: str
    image: str = DEFAULT_IMAGE

    @property
    def ref(self) -> str:
        return f"{self.namespace}/{self.name}"

    @property
    def credential_secrets(self) -> tuple[str, str]:
        """Secrets to log in with, in order of preference: the database owner's, then the superuser's."""
        return (self.app_secret, self.superuser_secret)


def cnpg_cluster_objects(objects: Iterable[K8sObject]) -> list[K8sObject]:
    """The CloudNativePG Cluster objects of a manifest set, in document order."""
    return [o for o in objects if o.kind == "Cluster" and o.group == CNPG_GROUP]


def cnpg_clusters(objects: Iterable[K8sObject]) -> list[CnpgCluster]:
    found = []
    for obj in cnpg_cluster_objects(objects):
        initdb = ((obj.spec.get("bootstrap") or {}).get("initdb")) or {}
        found.append(
            CnpgCluster(
                namespace=obj.namespace or "default",
                name=obj.name,
                instances=int(obj.spec.get("instances") or 1),
                database=str(initdb.get("database") or DEFAULT_DATABASE),
                app_secret=str((initdb.get("secret") or {}).get("name") or f"{obj.name}-app"),
                superuser_secret=str((obj.spec.get("superuserSecret") or {}).get("name") or f"{obj.name}-superuser"),
                image=str(obj.spec.get("imageName") or DEFAULT_IMAGE),
            )
        )
    return found


@dataclass(frozen=True)
class CnpgInstance:
    cluster: str  # "namespace/name" of the Cluster
    namespace: str
    pod: str
    role: str  # "primary", "replica" or what the label says ("unknown" without one)


@dataclass(frozen=True)
class InstanceList:
    instances: tuple[CnpgInstance, ...]
    problems: tuple[str, ...]  # why the instances cannot all be checked (empty: they can)


def _role(pod: Obj) -> str:
    labels = labels_of(pod)
    return next((str(labels[k]) for k in ROLE_LABELS if labels.get(k)), "unknown")


def is_instance_pod(pod: Obj, cluster: CnpgCluster) -> bool:
    """A PostgreSQL instance of `cluster` (not one of the operator's initdb or join Job pods)."""
    labels = labels_of(pod)
    return (
        namespace_of(pod) == cluster.namespace
        and labels.get(CLUSTER_LABEL) == cluster.name
        and labels.get("cnpg.io/podRole", "instance") == "instance"
        and "cnpg.io/jobRole" not in labels
    )


def cnpg_instances(cluster: CnpgCluster, pods: Sequence[Obj]) -> InstanceList:
    """Every instance pod of `cluster`, primary first, and what keeps any of them from being checked."""
    mine = [p for p in pods if is_instance_pod(p, cluster)]
    instances = sorted(
        (CnpgInstance(cluster.ref, namespace_of(p), name_of(p), _role(p)) for p in mine),
        key=lambda i: (i.role != "primary", i.pod),
    )
    problems = [f"{cluster.ref}: pod {name_of(p)} is being deleted" for p in mine if meta(p).get("deletionTimestamp")]
    problems += [f"{cluster.ref}: pod {name_of(p)} is not ready (phase {phase(p)})" for p in mine if not is_ready(p)]
    if len(mine) < cluster.instances:
        problems.append(f"{cluster.ref}: {len(mine)} instance pod(s) found, the Cluster declares {cluster.instances}")
    primaries = [i.pod for i in instances if i.role == "primary"]
    if mine and len(primaries) != 1:
        problems.append(f"{cluster.ref}: {len(primaries)} pod(s) labelled primary ({', '.join(primaries) or 'none'})")
    return InstanceList(tuple(instances), tuple(problems))


@dataclass(frozen=True)
class Credentials:
    user: str
    password: str = field(repr=False)
    database: str
    secret: str  # "namespace/name" of the Secret they were read from


def _decoded(data: Mapping[str, str], key: str) -> str | None:
    raw = data.get(key)
    if not raw:
        return None
    try:
        return base64.b64decode(raw, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None


def pick_credentials(cluster: CnpgCluster, secrets: Mapping[str, Obj | None]) -> Credentials:
    """Credentials from the first usable Secret of `cluster.credential_secrets` (`secrets` maps a Secret name
    to the object read from the API, None when absent). LookupError names what was tried, never a value."""
    tried = []
    for name in cluster.credential_secrets:
        secret = secrets.get(name)
        if secret is None:
            tried.append(f"{name} (absent)")
            continue
        data = secret.get("data") or {}
        user, password = _decoded(data, "username"), _decoded(data, "password")
        if not user or not password:
            tried.append(f"{name} (no username/password)")
            continue
        dbname = _decoded(data, "dbname")
        database = dbname if dbname and dbname != ANY_DATABASE else cluster.database
        return Credentials(user, password, database, f"{cluster.namespace}/{name}")
    raise LookupError(f"no usable credentials for {cluster.ref}: tried {', '.join(tried)}")
