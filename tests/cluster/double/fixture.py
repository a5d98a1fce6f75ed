"""The pytest fixture side: start a double for one scenario under tmp_path, with kubectl's cache and HOME there,
and stop it afterwards."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from . import scenario as scenarios
from .server import Running, start
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
    home = folder / "home"
    home.mkdir(parents=True, exist_ok=True)
    running = start(double, folder)
    try:
        yield DoubleLab(running, home)
    finally:
        running.stop()
