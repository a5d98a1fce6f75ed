"""Whether a container engine (docker or podman) answers on this machine: a client without a running engine
does not count."""

from __future__ import annotations

import functools
import shutil
import subprocess
from dataclasses import dataclass


@dataclass(frozen=True)
class EngineProbe:
    """What answered when we looked for a container engine."""

    client: str | None  # "docker" or "podman" when a client is on PATH
    engine_answers: bool
    detail: str  # the engine's version, or why it does not answer


def _first_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[0] if lines else "no output"


@functools.cache
def probe_container_engine(timeout_s: float = 5.0) -> EngineProbe:
    """Ask docker, then podman, for the server version: a client without a running engine does not count."""
    found_client: str | None = None
    detail = "not found"
    for client in ("docker", "podman"):
        path = shutil.which(client)
        if path is None:
            continue
        found_client = found_client or client
        fmt = "{{.Server.Version}}" if client == "docker" else "{{.Version}}"
        try:
            done = subprocess.run(
                [path, "version", "--format", fmt], capture_output=True, text=True, timeout=timeout_s, check=False
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            detail = f"{client} did not answer: {exc}"
            continue
        version = done.stdout.strip()
        if done.returncode == 0 and version:
            return EngineProbe(client, True, version)
        detail = _first_line(done.stderr or done.stdout)
    return EngineProbe(found_client, False, detail)
