"""The harness's resolved settings: one typed record per run, built once by dbc_validate.options from the command
line, the environment, ini values and defaults, and validated there (a field never holds a bad value)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from dbc_validate.criteria import CATALOG, Criterion
from dbc_validate.resources import APP_PATHS, data_path

DEFAULT_CLUSTER_NAME = "dbc-gate1"


def default_app_paths() -> Path:
    """The packaged app-path truth table the NetworkPolicies are judged against."""
    return data_path(APP_PATHS)


@dataclass(frozen=True)
class Settings:
    root: Path  # the project's rootdir; relative paths are resolved against it
    target: str = "auto"  # as requested: auto | local | kind | k3d | kubeconfig
    target_source: str = "default"  # where the value came from (--target, DBC_TARGET, ini, default)
    manifests: Path | None = None  # None: the target's default overlay
    report_html: Path = Path("reports/gate1.html")
    kubeconfig: Path | None = None
    keep_cluster: bool = False
    allow_destructive: bool = False
    require_go: bool = False
    app_paths: Path = field(default_factory=default_app_paths)
    allow_prod_context: bool = False
    with_observability: bool = False
    cluster_name: str = DEFAULT_CLUSTER_NAME
    postgres_dsns: tuple[str, ...] = ()
    postgres_image: str | None = None
    postgres_bin: Path | None = None  # None: found on the machine
    soak_duration_s: float | None = None  # None: the target's default
    soak_interval_s: float | None = None  # None: 10 s, or half a shorter run (see probes.soak.plan)
    soak_resume: str | None = None
    soak_error_rate_max: float = 0.01  # a fraction
    soak_cpu_budget_cores: float = 1.0
    soak_memory_budget_mb: float = 512.0
    soak_rate_per_s: float = 5.0
    soak_mode: str = "active"  # active: drive load and sample now; retrospective: judge Prometheus's history
    soak_prometheus: str | None = None  # the Prometheus a retrospective soak reads (http://host:port)
    soak_window_end: float | None = None  # epoch seconds; None: now (retrospective soak)
    failover_trials: int | None = None  # None: the target's default
    i_mean_it: bool = False  # values outside an option's plausible range were confirmed
    load_workers: int = 0  # local Locust worker processes beside a master; 0: one Locust process as before
    load_master_bind: tuple[str, int] | None = None  # where the Locust master listens for remote workers
    load_expect_workers: int = 0  # remote workers the master waits for (with load_master_bind)
    load_in_cluster: bool = False  # the soak's load runs as Deployments in the cluster (cluster targets)
    prometheus_url: str | None = None  # an observability stack reached directly, not through the service proxy
    grafana_url: str | None = None
    loki_url: str | None = None
    servers: int = 3  # control-plane nodes / k3s servers of a created kind or k3d cluster (1: a quick dev cluster)
    catalog: tuple[Criterion, ...] = CATALOG

    @property
    def observability_urls(self) -> dict[str, str]:
        """Component -> base URL, for the components given a URL."""
        given = {"prometheus": self.prometheus_url, "grafana": self.grafana_url, "loki": self.loki_url}
        return {component: url for component, url in given.items() if url}

    @property
    def report_json(self) -> Path:
        return self.report_html.with_suffix(".json")
