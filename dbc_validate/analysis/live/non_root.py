"""Whether every running container is non-root: its effective securityContext and the uid it really has."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from dbc_validate.analysis.live.findings import Finding
from dbc_validate.analysis.live.pods import Obj, container_states, name_of, namespace_of

_UID_LINE = re.compile(r"^Uid:\s+(\d+)\s+(\d+)", re.MULTILINE)
# What to run in a container to learn its uid: `id -u`, else the kernel's own view of the process.
UID_COMMANDS: tuple[tuple[str, ...], ...] = (("id", "-u"), ("cat", "/proc/self/status"))


@dataclass(frozen=True)
class RunningContainer:
    namespace: str
    pod: str
    container: str
    run_as_user: int | None  # effective: container securityContext over the pod's
    run_as_non_root: bool | None

    @property
    def subject(self) -> str:
        return f"Pod/{self.namespace}/{self.pod} (container {self.container})"


def _effective(pod_sc: Mapping[str, Any], container_sc: Mapping[str, Any], key: str) -> Any:
    return container_sc[key] if key in container_sc else pod_sc.get(key)


def running_containers(pods: Sequence[Obj]) -> list[RunningContainer]:
    """Containers (init containers included while they run) whose state is running now."""
    result: list[RunningContainer] = []
    for pod in pods:
        spec = pod.get("spec") or {}
        pod_sc = spec.get("securityContext") or {}
        declared = {c["name"]: c for c in [*(spec.get("initContainers") or []), *(spec.get("containers") or [])]}
        for state in container_states(pod):
            if not state.running or state.role == "ephemeral" or state.name not in declared:
                continue
            sc = declared[state.name].get("securityContext") or {}
            user = _effective(pod_sc, sc, "runAsUser")
            non_root = _effective(pod_sc, sc, "runAsNonRoot")
            result.append(
                RunningContainer(
                    namespace_of(pod),
                    name_of(pod),
                    state.name,
                    int(user) if user is not None else None,
                    bool(non_root) if non_root is not None else None,
                )
            )
    return result


def parse_uid(output: str) -> int | None:
    """The uid printed by `id -u` or found in /proc/self/status (real uid), None if neither is there."""
    text = output.strip()
    if text.isdigit():
        return int(text)
    match = _UID_LINE.search(output)
    return int(match.group(1)) if match else None


@dataclass(frozen=True)
class UidObservation:
    uid: int | None
    error: str = ""  # why no uid could be read (no shell tools in the image, exec refused, ...)


def non_root_findings(containers: Sequence[RunningContainer], observed: Mapping[str, UidObservation]) -> list[Finding]:
    """A container fails when it runs as uid 0, or when nothing proves it does not.

    The observed uid decides when there is one. Without it (distroless images have neither `id` nor a
    shell) the declaration must prove it: a non-zero runAsUser, or runAsNonRoot, which the kubelet
    enforces by refusing to start a container whose user is root.
    """
    findings: list[Finding] = []
    for c in containers:
        seen = observed.get(c.subject)
        if seen is not None and seen.uid is not None:
            if seen.uid == 0:
                findings.append(Finding(c.subject, "runs as uid 0 (observed inside the container)"))
            continue
        if c.run_as_user == 0:
            findings.append(Finding(c.subject, "securityContext sets runAsUser: 0"))
        elif c.run_as_user is None and not c.run_as_non_root:
            why = seen.error if seen is not None and seen.error else "uid not observed"
            findings.append(
                Finding(
                    c.subject, f"nothing proves it is non-root: {why}, and neither runAsUser nor runAsNonRoot is set"
                )
            )
    return findings
