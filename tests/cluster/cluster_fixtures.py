"""Load the recorded-shape API objects of fixtures/cluster/ by file and name (a fresh copy each time), and a
recording stand-in for the cluster access the capabilities are made from."""

from __future__ import annotations

import copy
import functools
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from helpers import ROOT, read_yaml

from dbc_validate.analysis.live.plan import CollectedCheck
from dbc_validate.cli.plan_command import collect_checks

FIXTURES = ROOT / "fixtures" / "cluster"
MANIFEST_SET = FIXTURES / "manifest-set"


@functools.cache
def _file(name: str) -> dict[str, Any]:
    return read_yaml(FIXTURES / f"{name}.yaml")


@functools.cache
def _collected(suites: Path) -> tuple[tuple[CollectedCheck, ...], str]:
    checks, note = collect_checks(suites)
    return tuple(checks), note


def collected_once(suites: Path) -> tuple[list[CollectedCheck], str]:
    """`collect_checks`, run once per suites folder: each run is a pytest collection (~0.4 s), and the plan tests
    judge what the plan does with the checks, not the collection (test_plan_command tests that on its own)."""
    checks, note = _collected(suites)
    return list(checks), note


def self_signed_cert(key: Any) -> bytes:
    """A PEM certificate for `key`, shaped like the one a Sealed Secrets controller serves at /v1/cert.pem."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.x509.oid import NameOID

    name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "sealed-secret")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM)


def obj(file: str, name: str) -> Any:
    return copy.deepcopy(_file(file)[name])


def objs(file: str, *names: str) -> list[Any]:
    return [obj(file, n) for n in names]


class RecordingAccess:
    """Stands in for ClusterAccess (no cluster runs here): answers reads from recorded-shape objects, sends
    every port-forward to one local port, and records what the capability asked for."""

    def __init__(
        self,
        target: str = "kind",
        pods: Sequence[Any] = (),
        secrets: Sequence[Any] = (),
        deployments: Sequence[Any] = (),
        pod_metrics: Sequence[Any] | None = (),
        forward_to: int = 9,
        manifest_set: Any = None,
        ingress: Any = None,
    ) -> None:
        from dbc_validate.analysis.live.cluster_ingress import HostAddress
        from dbc_validate.cluster.kubectl import ClusterError
        from dbc_validate.cluster.pins import load_pins
        from dbc_validate.manifests.model import load_manifest_set

        self.target = target
        self.allow_destructive = False
        self.failover_trials: int | None = None
        self.pins = load_pins()
        self.manifest_set = manifest_set or load_manifest_set(MANIFEST_SET)
        self.versions: dict[str, str] = {}
        self.lines: list[str] = []
        self.forwards: list[tuple[str, str, int]] = []
        self.pods = list(pods)
        self.metrics = pod_metrics
        self.forward_to = forward_to
        self.api_down = False
        self._error = ClusterError
        self._ingress = ingress or HostAddress("127.0.0.1", 8080)
        by_kind = {"secret": list(secrets), "deployment": list(deployments)}
        outer = self

        class _Kubectl:
            def get(self, resource: str, name: str, namespace: str | None = None) -> Any:
                outer._check_api()
                for item in by_kind.get(resource, []):
                    meta = item["metadata"]
                    if meta["name"] == name and meta.get("namespace") == namespace:
                        return copy.deepcopy(item)
                return None

        self.kubectl = _Kubectl()

    def _check_api(self) -> None:
        if self.api_down:
            raise self._error("kubectl get pods failed: Unable to connect to the server: dial tcp 127.0.0.1:6443")

    def progress(self, line: str) -> None:
        self.lines.append(line)

    def destructive_refusal(self) -> str | None:
        from dbc_validate.analysis.live.safety import destructive_refusal

        return destructive_refusal(self.target, self.allow_destructive)

    @property
    def app_namespaces(self) -> list[str]:
        return [ns for ns in self.manifest_set.namespaces if ns not in ("kube-system", "cnpg-system")]

    def items(self, resource: str, namespace: str | None = None, missing_ok: bool = False) -> list[Any]:
        self._check_api()
        assert resource == "pods"
        return [copy.deepcopy(p) for p in self.pods if namespace is None or p["metadata"]["namespace"] == namespace]

    def in_namespaces(self, resource: str, namespaces: Sequence[str] | None = None, missing_ok: bool = False) -> list:
        return [o for ns in (namespaces or self.app_namespaces) for o in self.items(resource, ns)]

    def pod_metrics(self, namespaces: Sequence[str] | None = None) -> list[Any]:
        self._check_api()
        if self.metrics is None:
            raise self._error("the server could not find the requested resource (get pods.metrics.k8s.io)")
        wanted = set(namespaces or self.app_namespaces)
        return [copy.deepcopy(m) for m in self.metrics if m["metadata"]["namespace"] in wanted]

    def port_forward(self, namespace: str, resource: str, remote_port: int, name: str) -> int:
        self.forwards.append((namespace, resource, remote_port))
        return self.forward_to

    def ingress_address(self) -> Any:
        return self._ingress
