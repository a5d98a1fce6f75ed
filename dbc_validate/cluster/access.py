"""The `cluster` capability: API access for the live suites (thin calls; the suites decide with
analysis.live). It also runs the active probes: uid inside containers, the NetworkPolicy canary and
matrix probes in ephemeral containers, HTTP through Traefik, and `kubectl port-forward` for the other
capabilities (PostgreSQL instances, Traefik's metrics)."""

from __future__ import annotations

import http.client
import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from typing import Any

from dbc_validate.analysis.live.apps import HttpAnswer
from dbc_validate.analysis.live.cluster_ingress import LOOPBACK, HostAddress
from dbc_validate.analysis.live.netprobe import (
    CanaryVerdict,
    Observation,
    SourceProbe,
    canary_connect_command,
    canary_objects,
    canary_should_retry,
    canary_verdict,
    classify,
    deny_all_ingress,
    ephemeral_state,
    probe_container,
    probe_script,
)
from dbc_validate.analysis.live.non_root import UID_COMMANDS, UidObservation, parse_uid
from dbc_validate.analysis.live.pods import Obj, container_states, is_ready, name_of, pod_ip
from dbc_validate.analysis.live.safety import destructive_refusal
from dbc_validate.cluster.deploy import DeployRecord, random_token
from dbc_validate.cluster.kubectl import ClusterError, Kubectl, one_line
from dbc_validate.cluster.pins import Pins
from dbc_validate.manifests.model import ManifestSet
from dbc_validate.redact import redact
from dbc_validate.tools.processes import LabProcess, free_ports, lab_directory, wait_for_port

SYSTEM_NAMESPACES = frozenset({"kube-system", "kube-public", "kube-node-lease", "local-path-storage", "cnpg-system"})
PROBE_TIMEOUT_S = 180.0
CANARY_ATTEMPTS = 6


@dataclass(frozen=True)
class Observability:
    """Where the observability stack answers (service proxy paths), when it is installed."""

    namespace: str = "monitoring"
    prometheus: str = "kube-prometheus-stack-prometheus:9090"
    grafana: str = "kube-prometheus-stack-grafana:80"
    loki: str = "loki:3100"
    # Component -> base URL given with --prometheus-url/--grafana-url/--loki-url: asked directly, not by proxy.
    urls: Mapping[str, str] = field(default_factory=dict)

    def with_urls(self, urls: Mapping[str, str]) -> Observability:
        return replace(self, urls={**self.urls, **urls}) if urls else self

    def fetch(self, kubectl: Kubectl, component: str, path: str) -> str:
        """GET `path` of "prometheus", "grafana" or "loki": from its URL when one was given, else through the
        API server's service proxy. ClusterError when it does not answer."""
        url = self.urls.get(component)
        if url is None:
            return kubectl.raw(self.proxy(getattr(self, component), path))
        try:
            with urllib.request.urlopen(url.rstrip("/") + path, timeout=30.0) as answer:
                return answer.read().decode("utf-8", errors="replace")
        except (urllib.error.URLError, OSError) as exc:
            raise ClusterError(redact(f"{component} at {url} did not answer {path}: {exc}")) from None

    def proxy(self, service: str, path: str) -> str:
        """The API server's service-proxy path; `service` is "name:port", or "namespace/name:port" for a component
        found in another namespace than `namespace` (a stack the cluster already runs)."""
        namespace, _, service = service.rpartition("/")
        return f"/api/v1/namespaces/{namespace or self.namespace}/services/http:{service}/proxy{path}"

    @classmethod
    def discovered(cls, found: Mapping[str, str]) -> Observability | None:
        """The stack a cluster already runs, from observability_discovery.discover (None: no Prometheus found).
        A component not found keeps kube-prometheus-stack's name, in Prometheus's namespace."""
        prometheus = found.get("prometheus")
        if prometheus is None:
            return None
        namespace = prometheus.split("/", 1)[0]
        defaults = cls(namespace=namespace)
        return cls(namespace, prometheus, found.get("grafana", defaults.grafana), found.get("loki", defaults.loki))


class ClusterAccess:
    """What a live suite gets from the `cluster` fixture."""

    def __init__(
        self,
        target: str,
        kubectl: Kubectl,
        manifest_set: ManifestSet,
        pins: Pins,
        record: DeployRecord | None,
        allow_destructive: bool,
        progress: Callable[[str], None],
        stack: ExitStack,
        ingress_address: HostAddress | None = None,
        versions: dict[str, str] | None = None,
        failover_trials: int | None = None,
    ) -> None:
        self.target = target
        self.kubectl = kubectl
        self.manifest_set = manifest_set
        self.pins = pins
        self.record = record
        self.allow_destructive = allow_destructive
        self.progress = progress
        self.stack = stack
        # kind/k3d: the host port the cluster config maps to Traefik's web NodePort; None: port-forward.
        self._ingress_address = ingress_address
        # The target's provenance record (the report's versions): capabilities add what they find.
        self.versions = versions if versions is not None else {}
        # --failover-trials as resolved (None: the cluster's default), for the failover_lab capability.
        self.failover_trials = failover_trials
        self.observability = Observability() if record is None or record.observability else None

    # ---- reads ---------------------------------------------------------------------------------------

    @property
    def app_namespaces(self) -> list[str]:
        """Namespaces of the manifest set that run the stack (system and operator namespaces excluded)."""
        return [ns for ns in self.manifest_set.namespaces if ns not in SYSTEM_NAMESPACES]

    @property
    def storage_class(self) -> str | None:
        pin = self.pins.clusters.get(self.target)
        return pin.storage_class if pin else None

    def items(self, resource: str, namespace: str | None = None, missing_ok: bool = False) -> list[dict[str, Any]]:
        return self.kubectl.items(resource, namespace, missing_ok=missing_ok)

    def in_namespaces(
        self, resource: str, namespaces: Sequence[str] | None = None, missing_ok: bool = False
    ) -> list[dict[str, Any]]:
        return [o for ns in (namespaces or self.app_namespaces) for o in self.items(resource, ns, missing_ok)]

    def raw_json(self, path: str) -> Any:
        return json.loads(self.kubectl.raw(path) or "null")

    def readyz(self) -> str | None:
        try:
            return self.kubectl.raw("/readyz?verbose")
        except ClusterError:
            return None

    def node_metrics(self) -> list[dict[str, Any]]:
        return list(self.raw_json("/apis/metrics.k8s.io/v1beta1/nodes").get("items") or [])

    def pod_metrics(self, namespaces: Sequence[str] | None = None) -> list[dict[str, Any]]:
        return [
            m
            for ns in (namespaces or self.app_namespaces)
            for m in self.raw_json(f"/apis/metrics.k8s.io/v1beta1/namespaces/{ns}/pods").get("items") or []
        ]

    def reviews(self, bodies: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
        """SubjectAccessReviews answered by the API server (created in batches: nothing is persisted)."""
        answers: list[dict[str, Any]] = []
        for start in range(0, len(bodies), 50):
            answers += self.kubectl.create(bodies[start : start + 50])
        return answers

    def destructive_refusal(self) -> str | None:
        return destructive_refusal(self.target, self.allow_destructive)

    # ---- probes --------------------------------------------------------------------------------------

    def uid_of(self, namespace: str, pod: str, container: str) -> UidObservation:
        errors = []
        for command in UID_COMMANDS:
            result = self.kubectl.exec(namespace, pod, container, command, timeout_s=30.0)
            uid = parse_uid(result.stdout) if result.returncode == 0 else None
            if uid is not None:
                return UidObservation(uid)
            errors.append(f"{' '.join(command)}: {(result.stderr or result.stdout).strip()[:120] or 'no output'}")
        return UidObservation(None, "; ".join(errors))

    def run_probe(self, source: SourceProbe) -> str:
        """Run every connect of one source pod in one ephemeral container; its output (the script's lines)."""
        name = f"dbc-probe-{random_token(6).lower()}"
        container = probe_container(name, self.pins.probe_image, probe_script(source.cells))
        self.kubectl.add_ephemeral_container(source.namespace, source.pod, container)
        deadline = time.monotonic() + PROBE_TIMEOUT_S
        while time.monotonic() < deadline:
            pod = self.kubectl.get("pod", source.pod, source.namespace)
            if pod is None:
                raise ClusterError(f"pod {source.namespace}/{source.pod} disappeared while probing")
            if ephemeral_state(pod, name) == "terminated":
                return self.kubectl.logs(source.namespace, source.pod, name)
            waiting = [s.waiting_reason for s in container_states(pod) if s.name == name and s.waiting_reason]
            if waiting and waiting[0] in ("ErrImagePull", "ImagePullBackOff", "CreateContainerConfigError"):
                raise ClusterError(f"probe container in {source.namespace}/{source.pod}: {waiting[0]}")
            time.sleep(2.0)
        raise ClusterError(f"probe in {source.namespace}/{source.pod} did not finish in {PROBE_TIMEOUT_S:.0f} s")

    def canary(self) -> CanaryVerdict:
        """Prove the CNI enforces NetworkPolicy: a connection that works must stop once deny-all applies."""
        namespace = f"dbc-canary-{random_token(6).lower()}"
        with ExitStack() as cleanup:
            cleanup.callback(self.kubectl.delete, "namespace", namespace)
            self.kubectl.apply(canary_objects(namespace, self.pins.probe_image))
            server, _client = self._wait_pods_ready(namespace, ("server", "client"))
            ip = pod_ip(server)
            assert ip is not None
            before = self._connect(namespace, ip)
            self.kubectl.apply([deny_all_ingress(namespace)])
            after: list[Observation] = []
            while not after or canary_should_retry(after, CANARY_ATTEMPTS):
                if after:
                    time.sleep(2.0)
                after.append(self._connect(namespace, ip))
            return canary_verdict(before, after)

    def _connect(self, namespace: str, ip: str) -> Observation:
        result = self.kubectl.exec(namespace, "client", "client", canary_connect_command(ip), timeout_s=30.0)
        return classify("tcp", result.returncode, result.stderr + result.stdout)

    def _wait_pods_ready(self, namespace: str, names: Sequence[str], timeout_s: float = 240.0) -> list[Obj]:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            pods = {name_of(p): p for p in self.kubectl.items("pods", namespace)}
            if all(n in pods and is_ready(pods[n]) for n in names):
                return [pods[n] for n in names]
            time.sleep(2.0)
        raise ClusterError(f"canary pods in {namespace} not ready after {timeout_s:.0f} s")

    # ---- HTTP through Traefik ------------------------------------------------------------------------

    def port_forward(self, namespace: str, resource: str, remote_port: int, name: str) -> int:
        """`kubectl port-forward` from a free local port to `resource` ("pod/x", "svc/y"); stopped with the
        capability's stack. Returns the local port."""
        port = free_ports(1)[0]
        forward = LabProcess(
            name,
            self.kubectl.argv(["port-forward", "-n", namespace, resource, f"{port}:{remote_port}"]),
            log_path=lab_directory("port-forward") / f"{name}.log",
        ).start()
        self.stack.callback(forward.stop)
        if not wait_for_port(port, timeout_s=30.0, alive=forward.alive):
            forward.stop()
            raise ClusterError(
                f"kubectl port-forward to {namespace}/{resource}:{remote_port} failed: {one_line(forward.log_tail(3))}"
            )
        return port

    def ingress_address(self) -> HostAddress:
        """Where Traefik's web entryPoint answers from this machine (a port mapping, else a port-forward)."""
        if self._ingress_address is None:
            install = self.pins.traefik
            web = install.port("web")
            local = self.port_forward(install.namespace, f"svc/{install.service_name}", web.service_port, "traefik-web")
            self._ingress_address = HostAddress(LOOPBACK, local)
        return self._ingress_address

    def http_get(self, host: str, path: str = "/", timeout_s: float = 20.0) -> HttpAnswer:
        """GET through Traefik with the Host header, without following redirects."""
        ingress = self.ingress_address()
        address, port = ingress.address, ingress.port
        connection = http.client.HTTPConnection(address, port, timeout=timeout_s)
        try:
            connection.request("GET", path, headers={"Host": host, "User-Agent": "dbc-validate"})
            response = connection.getresponse()
            body = response.read(8192).decode("utf-8", errors="replace")
            return HttpAnswer(response.status, body, response.getheader("Location") or "")
        except OSError as exc:
            raise ClusterError(f"HTTP GET http://{host}{path} via {address}:{port} failed: {exc}") from None
        finally:
            connection.close()
