"""Whether every running container is non-root: its live pod spec judged by the Pod Security evaluator, with the
uid observed inside the container as the live-only fact that decides when it could be read."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from dbc_validate.analysis.findings import Finding, finding
from dbc_validate.analysis.live.pods import Obj, container_states, name_of, namespace_of
from dbc_validate.analysis.pod_security import run_as_root_violations

_UID_LINE = re.compile(r"^Uid:\s+(\d+)\s+(\d+)", re.MULTILINE)
# What to run in a container to learn its uid: `id -u`, else the kernel's own view of the process.
UID_COMMANDS: tuple[tuple[str, ...], ...] = (("id", "-u"), ("cat", "/proc/self/status"))


@dataclass(frozen=True)
class RunningContainer:
    namespace: str
    pod: str
    container: str
    pod_spec: Mapping[str, Any] = field(repr=False, compare=False, hash=False)

    @property
    def ref(self) -> str:
        return f"Pod/{self.namespace}/{self.pod}"

    @property
    def subject(self) -> str:
        return f"{self.ref} (container {self.container})"


def running_containers(pods: Sequence[Obj]) -> list[RunningContainer]:
    """Containers (init containers included while they run) whose state is running now."""
    result: list[RunningContainer] = []
    for pod in pods:
        spec = pod.get("spec") or {}
        declared = {c.get("name") for c in [*(spec.get("initContainers") or []), *(spec.get("containers") or [])]}
        for state in container_states(pod):
            if state.running and state.role != "ephemeral" and state.name in declared:
                result.append(RunningContainer(namespace_of(pod), name_of(pod), state.name, spec))
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
    """A container fails when it runs as uid 0, or when nothing proves it does not (see
    `run_as_root_violations`: the observed uid decides; else the spec, judged as on the manifests)."""
    findings: list[Finding] = []
    for c in containers:
        seen = observed.get(c.subject) or UidObservation(None)
        for v in run_as_root_violations(c.pod_spec, c.container, seen.uid, seen.error):
            findings.append(finding(v.rule, c.ref, v.message, container=c.container))
    return findings
