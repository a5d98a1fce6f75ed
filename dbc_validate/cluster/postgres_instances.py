"""The `postgres` capability on a cluster: every CloudNativePG instance of the manifest set's Clusters, each
reached through its own `kubectl port-forward`, logged in with the operator-generated credentials.

Thin: which pods, which Secret and what a problem means are decided in analysis.live.cnpg_instances. The
password only ever lives in the instance's DSN (excluded from every repr); errors are redacted.
"""

from __future__ import annotations

from contextlib import ExitStack
from typing import TYPE_CHECKING, Any, Protocol

from dbc_validate.analysis.live.cnpg_instances import (
    POSTGRES_PORT,
    CnpgCluster,
    CnpgInstance,
    Credentials,
    cnpg_clusters,
    cnpg_instances,
    pick_credentials,
)
from dbc_validate.capabilities import DATABASE, InstanceKind, PostgresCapability, PostgresInstance
from dbc_validate.cluster.kubectl import ClusterError
from dbc_validate.errors import InputError
from dbc_validate.manifests.cnpg_bootstrap import find_bootstrap_sql
from dbc_validate.redact import redact
from dbc_validate.scope import Scope

if TYPE_CHECKING:
    from dbc_validate.cluster.access import ClusterAccess


class SecretReader(Protocol):
    """What reading credentials needs of kubectl (the cluster tier's Kubectl, or a test's stand-in)."""

    def get(self, resource: str, name: str, namespace: str | None = None) -> dict[str, Any] | None: ...


def read_credentials(kubectl: SecretReader, cluster: CnpgCluster) -> Credentials:
    """The first usable credentials of `cluster` (owner's Secret, else the superuser's), read through the API."""
    secrets = {name: kubectl.get("secret", name, cluster.namespace) for name in cluster.credential_secrets}
    try:
        return pick_credentials(cluster, secrets)
    except LookupError as exc:
        raise ClusterError(redact(str(exc))) from None


def _instance(access: ClusterAccess, instance: CnpgInstance, credentials: Credentials, label: str) -> PostgresInstance:
    from psycopg.conninfo import make_conninfo  # heavy: psycopg loads only when a cluster instance is reached

    port = access.port_forward(instance.namespace, f"pod/{instance.pod}", POSTGRES_PORT, f"pg-{instance.pod}")
    dsn = make_conninfo(
        host="127.0.0.1",
        port=port,
        dbname=credentials.database,
        user=credentials.user,
        password=credentials.password,
        connect_timeout=10,
    )
    name = f"{label} {instance.namespace}/{instance.pod}"
    record = PostgresInstance(name, dsn, instance.role, Scope.CLUSTER, InstanceKind.CLUSTER)
    try:
        inspected = record.inspected()  # the server's own answer: database, version, in recovery or not
    except InputError as exc:  # on a cluster this is a failure of the instance, not input to fix
        raise ClusterError(f"{name}: {exc.problem}") from None
    if inspected.role != instance.role:
        access.progress(f"postgres: {name} is labelled {instance.role} but the server says {inspected.role}")
    access.versions[f"postgresql {name}"] = inspected.server_version
    return inspected


def cluster_postgres(access: ClusterAccess, stack: ExitStack) -> PostgresCapability:
    """Every instance pod of every CloudNativePG Cluster in the manifest set, primary first."""
    del stack  # the port-forwards are registered on the access's stack (the target's)
    clusters = cnpg_clusters(access.manifest_set.objects)
    if not clusters:
        raise InputError(
            f"the manifest set {access.manifest_set.source} has no CloudNativePG Cluster (postgresql.cnpg.io)",
            "add the Cluster the CJK parser runs on, or pass --manifests",
        )
    try:
        bootstrap, problem = find_bootstrap_sql(access.manifest_set, DATABASE), None
    except InputError as exc:
        bootstrap, problem = None, exc
    instances: list[PostgresInstance] = []
    for cluster in clusters:
        pods = access.items("pods", cluster.namespace)
        found = cnpg_instances(cluster, pods)
        if found.problems:
            # Every instance must be checked: one that cannot be reached is a failure, not a smaller sample.
            raise ClusterError("; ".join(found.problems))
        credentials = read_credentials(access.kubectl, cluster)
        access.progress(
            f"postgres: {len(found.instances)} instance(s) of {cluster.ref} through kubectl port-forward "
            f"(user {credentials.user} from Secret {credentials.secret})"
        )
        instances += [_instance(access, i, credentials, f"CNPG {cluster.name}") for i in found.instances]
    return PostgresCapability(tuple(instances), bootstrap, problem)
