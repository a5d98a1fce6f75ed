"""The local observability lab: Debian's Prometheus, Alertmanager, node exporter and postgres exporter (over a lab
PostgreSQL), plus a Traefik serving only its metrics, on free loopback ports; configured from the manifest set
(analysis/observability_lab_config.py). Everything it starts stops, and its folder goes, when the stack closes.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

import yaml

from dbc_validate.analysis.netpol import build_model
from dbc_validate.analysis.observability_lab_config import (
    ALERTMANAGER_CONFIG,
    NODE_EXPORTER,
    POSTGRES_EXPORTER,
    TRAEFIK,
    lab_jobs,
    lab_rule_file,
    prometheus_config,
    selected_rules,
)
from dbc_validate.analysis.scrape_targets import predict_targets
from dbc_validate.capabilities import CapabilityUnavailable, ObservabilityStack
from dbc_validate.errors import LabError
from dbc_validate.labs.postgres_binaries import find_pg_binaries
from dbc_validate.labs.postgres_server import PostgresLab, start_postgres_lab
from dbc_validate.labs.prometheus_server import PrometheusServer, start_prometheus
from dbc_validate.labs.traefik_proxy import traefik_version
from dbc_validate.manifests.model import ManifestSet
from dbc_validate.tools.binaries import find_program
from dbc_validate.tools.processes import LabProcess, free_ports, lab_directory, remove_directory, wait_for_port

# Debian package -> (binary, $DBC_ variable overriding it)
PACKAGES = {
    "prometheus": ("prometheus", "DBC_PROMETHEUS"),
    "prometheus-alertmanager": ("prometheus-alertmanager", "DBC_ALERTMANAGER"),
    "prometheus-node-exporter": ("prometheus-node-exporter", "DBC_NODE_EXPORTER"),
    "prometheus-postgres-exporter": ("prometheus-postgres-exporter", "DBC_POSTGRES_EXPORTER"),
}
APT_COMMAND = "apt-get install -y --no-install-recommends " + " ".join(PACKAGES)
ABSENT_LOCALLY = {
    "grafana": "Grafana is not available locally: the dashboards' panel queries run on the lab's Prometheus instead",
    "loki": "Loki has no local stand-in: logs are checked only on a cluster",
}


def missing_packages() -> list[str]:
    missing = []
    for package, (binary, variable) in PACKAGES.items():
        try:
            find_program(binary, variable)
        except Exception:  # MissingBinary, or an override that is not executable: both mean "not usable"
            missing.append(package)
    return missing


def _get_json(url: str, timeout_s: float = 2.0) -> object:
    with urllib.request.urlopen(url, timeout=timeout_s) as response:
        return json.loads(response.read())


def _answers(url: str) -> bool:
    with (
        contextlib.suppress(OSError, urllib.error.URLError, ValueError),
        urllib.request.urlopen(url, timeout=1.0) as response,
    ):
        return response.status == 200
    return False


def program_version(binary: str) -> str:
    done = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=30, check=False)
    match = re.search(r"version (\S+)", done.stdout + done.stderr)
    return match.group(1) if match else "unknown"


class ObservabilityLab:
    """Prometheus scraping local stand-ins of the set's monitored targets, with its rules and an Alertmanager."""

    def __init__(self, manifests: ManifestSet, progress: Callable[[str], None]) -> None:
        missing = missing_packages()
        if missing:
            raise CapabilityUnavailable(
                f"the observability lab needs Debian packages {', '.join(missing)}; install them with: {APT_COMMAND}"
            )
        self.progress = progress
        model = build_model(manifests)
        prediction = predict_targets(model)
        self.jobs, self.unmapped = lab_jobs(model, prediction.targets)
        self.rules = selected_rules(model)
        self.directory = Path()
        self.prometheus: PrometheusServer | None = None
        self.postgres: PostgresLab | None = None
        self.processes: dict[str, LabProcess] = {}
        self.addresses: dict[str, str] = {}
        self.versions: dict[str, str] = {}
        self.started_in_s = 0.0
        self.alertmanager_url = ""

    @property
    def needs(self) -> set[str]:
        return {job.standin for job in self.jobs}

    def _process(self, name: str, argv: list[str], stack: ExitStack, **env: str) -> LabProcess:
        environment = {**os.environ, **env} if env else None
        process = LabProcess(name, argv, log_path=self.directory / f"{name}.log", env=environment).start()
        stack.callback(process.stop)
        self.processes[name] = process
        return process

    def _wait_metrics(self, name: str, timeout_s: float) -> None:
        process, url = self.processes[name], f"http://{self.addresses[name]}/metrics"
        port = int(self.addresses[name].rsplit(":", 1)[1])
        deadline = time.monotonic() + timeout_s
        wait_for_port(port, timeout_s=timeout_s, alive=process.alive)
        while time.monotonic() < deadline:
            if not process.alive():
                raise LabError(f"{name} exited: {process.log_tail()}")
            if _answers(url):
                return
            time.sleep(0.05)
        raise LabError(f"{name} did not serve {url} within {timeout_s:.0f} s: {process.log_tail()}")

    def start(self, stack: ExitStack, timeout_s: float = 30.0) -> ObservabilityLab:
        started = time.monotonic()
        self.directory = lab_directory("observability")
        stack.callback(remove_directory, self.directory)
        node_port, traefik_port, exporter_port, am_port = free_ports(4)
        self.addresses = {
            NODE_EXPORTER: f"127.0.0.1:{node_port}",
            TRAEFIK: f"127.0.0.1:{traefik_port}",
            POSTGRES_EXPORTER: f"127.0.0.1:{exporter_port}",
        }
        alertmanager = f"127.0.0.1:{am_port}"
        self.progress(
            f"observability lab: {len(self.jobs)} scrape job(s) from the set's monitors, "
            f"{len(self.rules)} PrometheusRule(s), in {self.directory}"
        )
        textfiles = self.directory / "textfile"
        textfiles.mkdir()
        node = find_program("prometheus-node-exporter", "DBC_NODE_EXPORTER")
        self._process(
            NODE_EXPORTER,
            [node, f"--web.listen-address={self.addresses[NODE_EXPORTER]}",
             f"--collector.textfile.directory={textfiles}", "--no-collector.systemd"],
            stack,
        )  # fmt: skip
        if TRAEFIK in self.needs:
            traefik = find_program("traefik")
            self.versions["traefik (observability lab)"] = traefik_version(traefik)
            self._process(
                TRAEFIK,
                [traefik, f"--entryPoints.metrics.address={self.addresses[TRAEFIK]}",
                 "--metrics.prometheus.entryPoint=metrics", "--ping.entryPoint=metrics", "--log.level=ERROR"],
                stack,
            )  # fmt: skip
        am_config = self.directory / "alertmanager.yml"
        am_config.write_text(yaml.safe_dump(dict(ALERTMANAGER_CONFIG), sort_keys=False), encoding="utf-8")
        self._process(
            "alertmanager",
            [find_program("prometheus-alertmanager", "DBC_ALERTMANAGER"), f"--config.file={am_config}",
             f"--storage.path={self.directory / 'alertmanager'}", f"--web.listen-address={alertmanager}",
             "--cluster.listen-address="],
            stack,
        )  # fmt: skip
        # Prometheus before PostgreSQL: its 5 s target-discovery throttle then overlaps initdb (research notes).
        self._start_prometheus(stack, alertmanager, timeout_s)
        if POSTGRES_EXPORTER in self.needs:
            self._start_postgres(stack, timeout_s)
        for name in self.processes:
            if name != "alertmanager":
                self._wait_metrics(name, timeout_s)
        if not _answers(f"http://{alertmanager}/-/ready"):
            self._wait_ready(f"http://{alertmanager}/-/ready", "alertmanager", timeout_s)
        self.alertmanager_url = f"http://{alertmanager}"
        self._wait_scraped(timeout_s)
        self.started_in_s = time.monotonic() - started
        self.progress(f"observability lab: ready in {self.started_in_s:.1f} s, Prometheus on {self.prometheus_url}")
        return self

    def _wait_ready(self, url: str, name: str, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if _answers(url):
                return
            time.sleep(0.05)
        raise LabError(f"{name} was not ready within {timeout_s:.0f} s: {self.processes[name].log_tail()}")

    def _start_prometheus(self, stack: ExitStack, alertmanager: str, timeout_s: float) -> None:
        rule_files = []
        for index, resource in enumerate(self.rules):
            path = self.directory / f"rules-{index}-{resource.obj.name}.yml"
            path.write_text(lab_rule_file(resource), encoding="utf-8")
            rule_files.append(str(path))
        config = prometheus_config(
            self.jobs,
            self.addresses,
            alertmanager=alertmanager,
            rule_files=rule_files,
            extra_jobs={NODE_EXPORTER: self.addresses[NODE_EXPORTER]},
        )
        config_file = self.directory / "prometheus.yml"
        config_file.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
        # An alert firing before Alertmanager is discovered is re-sent after this delay (default 1 min).
        flags = ["--rules.alert.resend-delay=1s", "--storage.tsdb.retention.time=1d"]
        self.prometheus = start_prometheus(
            config_file, self.directory / "tsdb", extra_flags=flags, timeout_s=timeout_s, progress=self.progress
        )
        stack.callback(self.prometheus.stop)
        self.versions["prometheus"] = self.prometheus.version
        self.versions["alertmanager"] = program_version(find_program("prometheus-alertmanager", "DBC_ALERTMANAGER"))

    def _start_postgres(self, stack: ExitStack, timeout_s: float) -> None:
        binaries = find_pg_binaries()
        self.postgres = start_postgres_lab(binaries, self.progress, timeout_s=timeout_s)
        stack.callback(self.postgres.stop)
        self.versions["postgresql (observability lab)"] = f"{binaries.major} ({binaries.source})"
        # Over the lab's Unix socket with trust: no password anywhere.
        dsn = f"user=postgres host={self.postgres.socket_dir} port={self.postgres.port} dbname=postgres sslmode=disable"
        exporter = find_program("prometheus-postgres-exporter", "DBC_POSTGRES_EXPORTER")
        self._process(
            POSTGRES_EXPORTER,
            [exporter, f"--web.listen-address={self.addresses[POSTGRES_EXPORTER]}"],
            stack,
            DATA_SOURCE_NAME=dsn,
        )

    @property
    def prometheus_url(self) -> str:
        assert self.prometheus is not None
        return self.prometheus.url

    def _wait_scraped(self, timeout_s: float) -> None:
        """Until every scrape pool has been scraped once (Prometheus 2.42 publishes targets ~5 s after start)."""
        wanted = {job.pool for job in self.jobs} | {NODE_EXPORTER}
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError, urllib.error.URLError, ValueError):
                answer = _get_json(f"{self.prometheus_url}/api/v1/targets?state=active")
                active = (answer.get("data") or {}).get("activeTargets") or []  # type: ignore[union-attr]
                scraped = {t.get("scrapePool") for t in active if not str(t.get("lastScrape", "")).startswith("0001")}
                if wanted <= scraped:
                    return
            time.sleep(0.1)
        raise LabError(f"Prometheus did not scrape {sorted(wanted)} within {timeout_s:.0f} s")

    def stack_record(self) -> ObservabilityStack:
        notes = [job.describe() for job in self.jobs]
        notes += [f"no local stand-in, not checked here: {item}" for item in self.unmapped]
        notes.append(f"lab started in {self.started_in_s:.1f} s")
        return ObservabilityStack(
            description=f"local Prometheus {self.versions.get('prometheus', '?')} with Alertmanager, node exporter, "
            "postgres exporter and Traefik metrics standing in for the set's monitored targets",
            prometheus_url=self.prometheus_url,
            alertmanager_url=self.alertmanager_url,
            expected_pools={job.pool: job.describe() for job in self.jobs},
            evaluation_interval_s=1.0,
            absent=dict(ABSENT_LOCALLY),
            notes=tuple(notes),
        )


def provide_observability_lab(
    manifests: ManifestSet, stack: ExitStack, progress: Callable[[str], None]
) -> ObservabilityLab:
    """Start the lab on `stack` (CapabilityUnavailable naming the apt command when packages are missing)."""
    lab = ObservabilityLab(manifests, progress)
    with ExitStack() as starting:
        # Whatever started is stopped if the start fails (Ctrl-C included); on success `stack` owns it.
        lab.start(starting)
        stack.push(starting.pop_all())
    return lab
