"""Which target `--target auto` means on this machine, and why (decision pure, probes thin)."""

from __future__ import annotations

import shutil
from dataclasses import dataclass

from dbc_validate.tools.container_engine import EngineProbe, probe_container_engine


@dataclass(frozen=True)
class TargetChoice:
    name: str
    why: str


def choose_target(requested: str, engine: EngineProbe, kind_path: str | None) -> TargetChoice:
    """Resolve `requested` (auto or a target name) into a concrete target with a reason."""
    if requested != "auto":
        return TargetChoice(requested, "requested explicitly")
    if not engine.engine_answers:
        if engine.client is None:
            return TargetChoice("local", "auto: no container engine client (docker/podman) found")
        return TargetChoice("local", f"auto: {engine.client} client found but no engine answers ({engine.detail})")
    if kind_path is None:
        return TargetChoice("local", f"auto: {engine.client} engine answers but kind is not installed")
    return TargetChoice("kind", f"auto: {engine.client} engine {engine.detail} answers and kind is installed")


def resolve_target(requested: str) -> TargetChoice:
    if requested != "auto":
        return choose_target(requested, EngineProbe(None, False, "not probed"), None)
    return choose_target(requested, probe_container_engine(), shutil.which("kind"))
