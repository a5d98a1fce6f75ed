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
from dbc_validate.analysis.live.observability_discovery import discover, looked_for
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


# What kube-prometheus-stack (release `kube-prometheus-stack`, namespace `monitoring`, the harness's pins) and the
# loki chart name their Services: where the components are when the harness installed them.
INSTALLED_STACK = {
    "prometheus": "monitoring/kube-prometheus-stack-prometheus:9090",
    "alertmanager": "monitoring/kube-prometheus-stack-alertmanager:9093",
    "grafana": "monitoring/kube-prometheus-stack-grafana:80",
    "loki": "monitoring/loki:3100",
}
URL_OPTIONS = ("prometheus", "grafana", "loki")  # the components --<name>-url can point at


@dataclass(frozen=True)
class Observability:
    """The cluster's observability stack, as one finder (`find_observability`) gives it on every cluster target:
    each component's Service ("namespace/name:port", reached through the API server's service proxy), or the URL
    given with --prometheus-url/--grafana-url/--loki-url (asked directly). A component in neither is absent."""

    services: Mapping[str, str] = field(default_factory=dict)
    urls: Mapping[str, str] = field(default_factory=dict)
    installed: bool = False  # the harness installed the stack (--with-observability)
    search_note: str = ""  # why discovery may have missed something (e.g. Services could not be listed)

    def with_urls(self, urls: Mapping[str, str]) -> Observability:
        return replace(self, urls={**self.urls, **urls}) if urls else self

    def has(self, component: str) -> bool:
        return component in self.urls or component in self.services

    @property
    def found_anything(self) -> bool:
        return bool(self.urls or self.services)

    def service(self, component: str) -> tuple[str, str, int] | None:
        """(namespace, name, port) of the component's Service, None when it was given a URL or not found."""
        where = self.services.get(component)
        if where is None or component in self.urls:
            return None
        namespace, _, rest = where.partition("/")
        name, _, port = rest.partition(":")
        return namespace, name, int(port)

    def where(self, component: str) -> str:
        """Where the component is asked, for messages (a URL's credentials masked)."""
        url = self.urls.get(component)
        if url is not None:
            return redact(url)
        return f"Service {self.services.get(component, '(not found)')}"

    def proxy_path(self, component: str, path: str = "") -> str:
        """The API server's service-proxy path of a component found as a Service."""
        service = self.service(component)
        if service is None:
            raise ClusterError(f"{component} has no Service to proxy to ({self.where(component)})")
        namespace, name, port = service
        return f"/api/v1/namespaces/{namespace}/services/http:{name}:{port}/proxy{path}"

    def fetch(self, kubectl: Kubectl, component: str, path: str, headers: Mapping[str, str] | None = None) -> str:
        """GET `path` of a component: from its URL when one was given, else through the API server's service proxy
        (which forwards no credentials: `headers` are sent only to a URL). ClusterError when it does not answer."""
        url = self.urls.get(component)
        if url is None:
            return kubectl.raw(self.proxy_path(component, path))
        request = urllib.request.Request(url.rstrip("/") + path, headers=dict(headers or {}))
        try:
            with urllib.request.urlopen(request, timeout=30.0) as answer:
                return answer.read().decode("utf-8", errors="replace")
        except (urllib.error.URLError, OSError) as exc:
            raise ClusterError(redact(f"{component} at {url} did not answer {path}: {exc}")) from None

    def missing_reason(self, component: str, target: str) -> str:
        """The NOT_RUN reason for a component that was not found, fitting the target."""
        option = f"--{component}-url URL" if component in URL_OPTIONS else "--prometheus-url URL"
        if target == "kubeconfig":
            note = f" ({self.search_note})" if self.search_note else ""
            return (
                f"nothing to check: no {component} found in the cluster: looked for {looked_for(component)}{note}; "
                f"pass {option} to name it"
            )
        return (
            f"nothing to check: the {target} cluster has no {component}: pass --with-observability to install "
            f"kube-prometheus-stack, Loki and Promtail, or {option}"
        )

    @classmethod
    def from_search(cls, found: Mapping[str, str], installed: bool, note: str = "") -> Observability:
        """The stack from observability_discovery.discover. Where the harness installed it, a component discovery
        did not find keeps the chart's name (so a broken install answers with an error, not a skip)."""
        services = {**INSTALLED_STACK, **found} if installed else dict(found)
        return cls(services, installed=installed, search_note=note)


def find_observability(
    kubectl: Kubectl, target: str, installed: bool, urls: Mapping[str, str], progress: Callable[[str], None]
) -> Observability:
    """The one way every cluster target finds its observability stack: the charts' Service labels in every
    namespace (the chart's names where the harness installed it), then the --*-url options on top."""
    note = ""
    try:
        found = discover(kubectl.items("services"))
    except ClusterError as exc:
        note = f"Services could not be listed in every namespace: {exc}"
        progress(f"{target}: cannot look for an observability stack ({exc})")
        found = {}
    for component, where in found.items():
        progress(f"{target}: found {component} at {where}")
    return Observability.from_search(found, installed, note).with_urls(urls)


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
        self._api_proxy: str | None = None
        # Set by the target with find_observability; until then, what the deploy says it installed.
        self.observability = Observability.from_search({}, record is not None and record.observability)

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

    def api_proxy(self) -> str:
        """`kubectl proxy` on a free loopback port, started once and stopped with the target's stack: the API
        server (its service proxy included) as plain HTTP for clients that are not kubectl. Its base URL."""
        if self._api_proxy is None:
            port = free_ports(1)[0]
            proxy = LabProcess(
                "kubectl-proxy",
                self.kubectl.argv(["proxy", "--address=127.0.0.1", f"--port={port}"]),
                log_path=lab_directory("kubectl-proxy") / "kubectl-proxy.log",
            ).start()
            self.stack.callback(proxy.stop)
            if not wait_for_port(port, timeout_s=30.0, alive=proxy.alive):
                proxy.stop()
                raise ClusterError(f"kubectl proxy did not start: {one_line(proxy.log_tail(3))}")
            self._api_proxy = f"http://127.0.0.1:{port}"
        return self._api_proxy

    def observability_url(self, component: str) -> str:
        """An HTTP base URL for a component of the cluster's stack: its --*-url, else its Service through the API
        server's service proxy (the same path the live suite's `fetch` takes) behind `kubectl proxy`."""
        url = self.observability.urls.get(component)
        if url is not None:
            return url.rstrip("/")
        return self.api_proxy() + self.observability.proxy_path(component)

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
