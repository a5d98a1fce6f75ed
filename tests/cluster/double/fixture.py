"""The pytest fixture side: start a double for one scenario under tmp_path, with kubectl's cache and HOME there,
and stop it afterwards."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from . import scenario as scenarios
from .backends import ProxyAnswer
from .server import Running, make_cert, start
from .store import Double

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"
VALIDATE_VERSION = "1.33"  # kubernetes-validate schema set for core kinds; matches the version the double reports


@dataclass(frozen=True)
class DoubleLab:
    running: Running
    home: Path

    @property
    def kubeconfig(self) -> Path:
        return self.running.kubeconfig

    @property
    def double(self) -> Double:
        return self.running.double

    def env(self, base: dict[str, str]) -> dict[str, str]:
        """Environment for a kubectl (or pytest) subprocess: a private HOME and discovery cache."""
        env = {k: v for k, v in base.items() if k != "KUBECONFIG"}
        return {**env, "HOME": str(self.home), "KUBECACHEDIR": str(self.home / "kube-cache")}


@contextmanager
def double_for(name: str | None, folder: Path) -> Iterator[DoubleLab]:
    """A running double loaded with scenario `name` (None: empty), stopped on exit."""
    double = Double(validate_version=VALIDATE_VERSION)
    if name is not None:
        scenarios.install(scenarios.load(SCENARIOS / f"{name}.yaml"), double)
    arm_sealing(double, *make_cert(folder / "certs"))
    home = folder / "home"
    home.mkdir(parents=True, exist_ok=True)
    running = start(double, folder)
    try:
        yield DoubleLab(running, home)
    finally:
        running.stop()


def arm_sealing(double: Double, cert: Path, key: Path) -> None:
    """The Sealed Secrets controller of a scenario with `sealing: key` holds the server's own RSA key and serves its
    certificate at /v1/cert.pem through the service proxy, as the controller does (`kubeseal --fetch-cert`)."""
    controller = double.controller
    if controller is None or not controller.b.sealing:
        return
    from cryptography.hazmat.primitives.serialization import load_pem_private_key  # heavy third-party import

    controller.sealing_key = load_pem_private_key(key.read_bytes(), None)
    served = ProxyAnswer("sealed-secrets-controller", "/v1/cert.pem", text=cert.read_text(encoding="utf-8"))
    scripted = double.proxy_answer
    double.proxy_answer = lambda ns, svc, path: (
        served.body() if served.matches(ns, svc, path) else (scripted(ns, svc, path) if scripted else None)
    )
