"""Live NetworkPolicy probing, decided here and executed elsewhere.

The NetworkPolicy engine gives the expected matrix as flows (source and destination workload "ns/name",
port, protocol, allowed) and the labels each workload's pods carry; live pods are found by those labels in
the workload's namespace. This module turns the flows into one probe script per source pod (every connect of
that source runs in one ephemeral container, in parallel), parses what the script printed, and compares
each observed cell with the expected one. A canary decides first whether the CNI enforces policies at
all, and how a blocked connection looks on it (dropped = TIMEOUT, rejected = REFUSED).
"""

from __future__ import annotations

import shlex
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any, Protocol

from dbc_validate.analysis.findings import Finding, finding
from dbc_validate.analysis.live.harness_policies import HARNESS_LABELS
from dbc_validate.analysis.live.pods import Obj, is_ready, labels_of, name_of, namespace_of, pod_ip

DNS_PORT = 53
DNS_QUERY_NAME = "kubernetes.default.svc.cluster.local"
CONNECT_TIMEOUT_S = 3
PROBE_MARK = "DBC-PROBE"
PROBE_DONE = "DBC-PROBE-DONE"
PROBE_UID = 65534


class FlowLike(Protocol):
    """A cell of the expected matrix, as the NetworkPolicy engine computes it."""

    @property
    def source(self) -> str: ...
    @property
    def destination(self) -> str: ...
    @property
    def port(self) -> int | str: ...
    @property
    def protocol(self) -> str: ...
    @property
    def allowed(self) -> bool: ...


class Outcome(StrEnum):
    CONNECTED = "connected"
    REFUSED = "refused"
    TIMEOUT = "timeout"
    DNS = "dns-error"
    OTHER = "other"
    MISSING = "no result"  # the script printed nothing for this cell


class Verdict(StrEnum):
    MATCH = "match"
    TOO_OPEN = "too open"  # expected denied, it connected
    TOO_CLOSED = "too closed"  # expected allowed, it was blocked
    INCONCLUSIVE = "inconclusive"
    NOT_PROBED = "not probed"


@dataclass(frozen=True)
class Cell:
    """One flow resolved against the live pods: from which pod, to which IP and numeric port, how."""

    id: int
    source: str
    destination: str
    port: int | str
    protocol: str
    expected_allowed: bool
    source_pod: str | None = None  # "ns/pod"
    destination_ip: str | None = None
    resolved_port: int | None = None
    method: str = ""  # "tcp" | "dns-udp"
    skip_reason: str = ""

    @property
    def label(self) -> str:
        return f"{self.source} -> {self.destination}:{self.port}/{self.protocol}"


@dataclass(frozen=True)
class SourceProbe:
    """Everything one source pod must try, run by one script in one ephemeral container."""

    namespace: str
    pod: str
    cells: tuple[Cell, ...]


@dataclass(frozen=True)
class ProbePlan:
    sources: tuple[SourceProbe, ...]
    unprobed: tuple[Cell, ...]

    @property
    def cells(self) -> list[Cell]:
        return [c for s in self.sources for c in s.cells] + list(self.unprobed)


def pods_of(identity: str, selector: Mapping[str, str], pods: Sequence[Obj]) -> list[Obj]:
    """Live pods of the workload "namespace/name": in its namespace, carrying every label of `selector`."""
    namespace = identity.partition("/")[0]
    return [
        p for p in pods if namespace_of(p) == namespace and all(labels_of(p).get(k) == v for k, v in selector.items())
    ]


def _ready_pod(candidates: Iterable[Obj]) -> Obj | None:
    ready = sorted((p for p in candidates if is_ready(p) and pod_ip(p)), key=name_of)
    return ready[0] if ready else None


def resolve_port(port: int | str, protocol: str, pod: Obj) -> int | None:
    """A numeric port, or a named port looked up in the destination pod's container ports."""
    if isinstance(port, int) or str(port).isdigit():
        return int(port)
    for c in (pod.get("spec") or {}).get("containers") or []:
        for p in c.get("ports") or []:
            if p.get("name") == port and str(p.get("protocol", "TCP")).upper() == protocol.upper():
                return int(p["containerPort"])
    return None


def plan_probes(
    flows: Iterable[FlowLike], pods: Sequence[Obj], selectors: Mapping[str, Mapping[str, str]]
) -> ProbePlan:
    """Resolve every flow against the live pods (found by `selectors`: workload id -> the labels its pods
    carry, from the engine's model) and group the probeable ones by source pod."""
    by_source: dict[tuple[str, str], list[Cell]] = {}
    unprobed: list[Cell] = []
    for index, flow in enumerate(flows):
        protocol = str(flow.protocol or "TCP").upper()
        base = Cell(index, flow.source, flow.destination, flow.port, protocol, bool(flow.allowed))
        unlabelled = [w for w in (flow.source, flow.destination) if not selectors.get(w)]
        if unlabelled:
            why = f"the model gives the pods of {unlabelled[0]} no label to find them by"
            unprobed.append(_with(base, skip_reason=why))
            continue
        src = _ready_pod(pods_of(flow.source, selectors[flow.source], pods))
        dst = _ready_pod(pods_of(flow.destination, selectors[flow.destination], pods))
        reason = ""
        port = resolve_port(flow.port, protocol, dst) if dst is not None else None
        method = ""
        if src is None:
            reason = f"no running, ready pod of source {flow.source}"
        elif dst is None:
            reason = f"no running, ready pod of destination {flow.destination}"
        elif port is None:
            reason = f"destination pod declares no {protocol} port named {flow.port!r}"
        elif protocol == "TCP":
            method = "tcp"
        elif protocol == "UDP" and port == DNS_PORT:
            method = "dns-udp"
        else:
            reason = f"{protocol} port {port} has no responder a probe can rely on"
        if reason:
            unprobed.append(_with(base, skip_reason=reason))
            continue
        assert src is not None and dst is not None
        cell = _with(
            base,
            source_pod=f"{namespace_of(src)}/{name_of(src)}",
            destination_ip=pod_ip(dst),
            resolved_port=port,
            method=method,
        )
        by_source.setdefault((namespace_of(src), name_of(src)), []).append(cell)
    sources = tuple(SourceProbe(ns, pod, tuple(cells)) for (ns, pod), cells in sorted(by_source.items()))
    return ProbePlan(sources, tuple(unprobed))


def _with(cell: Cell, **changes: Any) -> Cell:
    return replace(cell, **changes)


def _address(ip: str, port: int) -> str:
    return f"[{ip}]:{port}" if ":" in ip else f"{ip}:{port}"


def cell_command(cell: Cell) -> list[str]:
    """The command that probes one cell from inside the source pod's network namespace."""
    assert cell.destination_ip is not None and cell.resolved_port is not None
    if cell.method == "dns-udp":
        return [
            "dig",
            f"+time={CONNECT_TIMEOUT_S}",
            "+tries=1",
            "+short",
            "-p",
            str(cell.resolved_port),
            f"@{cell.destination_ip}",
            DNS_QUERY_NAME,
        ]
    return ["/agnhost", "connect", f"--timeout={CONNECT_TIMEOUT_S}s", _address(cell.destination_ip, cell.resolved_port)]


def probe_script(cells: Sequence[Cell]) -> str:
    """A POSIX shell script running every connect in parallel, one result line per cell, then a marker."""
    lines = [
        "probe() {",
        '  id="$1"; shift',
        '  out=$("$@" 2>&1); rc=$?',
        f"  printf '{PROBE_MARK} %s %s %s\\n' \"$id\" \"$rc\" \"$(printf '%s' \"$out\" | tr '\\n' ' ' | cut -c1-200)\"",
        "}",
    ]
    lines += [f"probe {cell.id} {shlex.join(cell_command(cell))} &" for cell in cells]
    lines += ["wait", f"echo {PROBE_DONE}"]
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class Observation:
    outcome: Outcome
    detail: str = ""


def classify(method: str, rc: int, output: str) -> Observation:
    """What one command's exit code and output say about the connection."""
    text = output.strip()
    if rc == 0:
        return Observation(Outcome.CONNECTED, text[:80])
    if method == "dns-udp":
        # dig exits 9 when no reply came back at all.
        return Observation(Outcome.TIMEOUT if rc == 9 else Outcome.OTHER, text)
    head = text.split(":", 1)[0].split(" ", 1)[0].upper()
    mapping = {"TIMEOUT": Outcome.TIMEOUT, "REFUSED": Outcome.REFUSED, "DNS": Outcome.DNS}
    return Observation(mapping.get(head, Outcome.OTHER), text)


def parse_probe_output(text: str, cells: Sequence[Cell]) -> dict[int, Observation]:
    """Observations by cell id from a script's output; a cell without a line is MISSING."""
    methods = {c.id: c.method for c in cells}
    seen: dict[int, Observation] = {}
    for line in text.splitlines():
        parts = line.strip().split(" ", 3)
        if len(parts) < 3 or parts[0] != PROBE_MARK or not parts[1].isdigit() or not parts[2].lstrip("-").isdigit():
            continue
        cell_id, rc = int(parts[1]), int(parts[2])
        if cell_id in methods:
            seen[cell_id] = classify(methods[cell_id], rc, parts[3] if len(parts) > 3 else "")
    finished = PROBE_DONE in text
    for cell in cells:
        if cell.id not in seen:
            why = "no line for this cell" + ("" if finished else "; the script did not finish")
            seen[cell.id] = Observation(Outcome.MISSING, why)
    return seen


@dataclass(frozen=True)
class CanaryVerdict:
    enforcing: bool
    blocked_signature: Outcome | None  # how a blocked connection shows up on this CNI
    reason: str


def canary_verdict(before: Observation, after: Sequence[Observation]) -> CanaryVerdict:
    """Does a deny-all ingress policy block a connection that worked before it was applied?

    `after` holds the attempts made after the policy, last one last (a new policy can take a moment to
    be programmed, so the caller retries while connections still succeed).
    """
    if before.outcome is not Outcome.CONNECTED:
        return CanaryVerdict(
            False, None, f"the canary server was not reachable before any policy ({before.outcome}: {before.detail})"
        )
    if not after:
        return CanaryVerdict(False, None, "no probe ran after the deny-all policy was applied")
    last = after[-1]
    if last.outcome is Outcome.CONNECTED:
        return CanaryVerdict(
            False, None, f"a deny-all ingress policy did not block ({len(after)} attempts): the CNI does not enforce it"
        )
    if last.outcome in (Outcome.TIMEOUT, Outcome.REFUSED):
        style = "drops" if last.outcome is Outcome.TIMEOUT else "rejects"
        return CanaryVerdict(True, last.outcome, f"deny-all blocked the canary: the CNI {style} denied connections")
    return CanaryVerdict(
        False, None, f"after the deny-all policy the probe failed oddly ({last.outcome}: {last.detail})"
    )


def canary_should_retry(after: Sequence[Observation], max_attempts: int) -> bool:
    return bool(after) and after[-1].outcome is Outcome.CONNECTED and len(after) < max_attempts


def judge(cell: Cell, obs: Observation | None, blocked_signature: Outcome) -> Verdict:
    """Compare one observed cell with the expectation, knowing how this CNI shows a blocked connection."""
    if cell.skip_reason:
        return Verdict.NOT_PROBED
    if obs is None:
        return Verdict.INCONCLUSIVE  # it was meant to be probed: a missing result is no evidence either way
    if obs.outcome is Outcome.CONNECTED:
        reached = True
    elif obs.outcome is Outcome.REFUSED and blocked_signature is Outcome.TIMEOUT:
        # This CNI drops denied packets, so a refusal came from the pod: the policy let it through.
        reached = True
    elif obs.outcome is Outcome.TIMEOUT and blocked_signature is Outcome.TIMEOUT:
        reached = False
    else:
        return Verdict.INCONCLUSIVE
    if reached:
        return Verdict.MATCH if cell.expected_allowed else Verdict.TOO_OPEN
    return Verdict.TOO_CLOSED if cell.expected_allowed else Verdict.MATCH


@dataclass(frozen=True)
class CellResult:
    cell: Cell
    observation: Observation | None
    verdict: Verdict


def compare(
    cells: Sequence[Cell], observations: Mapping[int, Observation], blocked_signature: Outcome
) -> list[CellResult]:
    return [CellResult(c, observations.get(c.id), judge(c, observations.get(c.id), blocked_signature)) for c in cells]


def cells_to_reprobe(results: Sequence[CellResult]) -> list[Cell]:
    """Cells that connected against the expectation: probe them once more before calling them open,
    since a pod can be briefly unprotected while its policies are programmed."""
    return [r.cell for r in results if r.verdict is Verdict.TOO_OPEN]


def merge(first: Mapping[int, Observation], second: Mapping[int, Observation]) -> dict[int, Observation]:
    merged = dict(first)
    merged.update(second)
    return merged


def summary(results: Sequence[CellResult]) -> dict[str, int]:
    counts = {v.value: 0 for v in Verdict}
    for r in results:
        counts[r.verdict.value] += 1
    return counts


def matrix_findings(results: Sequence[CellResult]) -> list[Finding]:
    """Cells that failed the comparison or could not conclude (never the not-probed ones)."""
    findings = []
    for r in results:
        if r.verdict in (Verdict.MATCH, Verdict.NOT_PROBED):
            continue
        expected = "allowed" if r.cell.expected_allowed else "denied"
        seen = f"{r.observation.outcome}" if r.observation else "nothing"
        detail = f" ({r.observation.detail})" if r.observation and r.observation.detail else ""
        findings.append(
            finding("live.network", r.cell.label, f"{r.verdict}: expected {expected}, observed {seen}{detail}")
        )
    return findings


def probe_container(name: str, image: str, script: str) -> dict[str, Any]:
    """An ephemeral container that runs `script` in the source pod's network namespace and satisfies the
    restricted Pod Security profile (application namespaces enforce it)."""
    return {
        "name": name,
        "image": image,
        "imagePullPolicy": "IfNotPresent",
        "command": ["/bin/sh", "-c", script],
        "terminationMessagePolicy": "FallbackToLogsOnError",
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "capabilities": {"drop": ["ALL"]},
            "runAsNonRoot": True,
            "runAsUser": PROBE_UID,
            "runAsGroup": PROBE_UID,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
    }


def ephemeral_state(pod: Obj, name: str) -> str:
    """ "missing" | "waiting" | "running" | "terminated" for the ephemeral container `name`."""
    for status in (pod.get("status") or {}).get("ephemeralContainerStatuses") or []:
        if status.get("name") == name:
            state = status.get("state") or {}
            for key in ("terminated", "running", "waiting"):
                if key in state:
                    return key
            return "waiting"
    return "missing"


CANARY_PORT = 8080


def _restricted_pod(namespace: str, name: str, image: str, args: list[str], role: str) -> dict[str, Any]:
    container = probe_container(name, image, "")
    container.pop("command")
    container["args"] = args
    container["resources"] = {"requests": {"cpu": "10m", "memory": "16Mi"}, "limits": {"cpu": "100m", "memory": "64Mi"}}
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace, "labels": {"dbc-validate/canary": role, **HARNESS_LABELS}},
        "spec": {
            "automountServiceAccountToken": False,
            "securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
            "containers": [container],
        },
    }


def canary_objects(namespace: str, image: str) -> list[dict[str, Any]]:
    """A throwaway namespace with a server (agnhost netexec) and a client pod; no policy yet."""
    return [
        {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {
                "name": namespace,
                "labels": {"pod-security.kubernetes.io/enforce": "restricted", **HARNESS_LABELS},
            },
        },
        _restricted_pod(namespace, "server", image, ["netexec", f"--http-port={CANARY_PORT}"], "server"),
        _restricted_pod(namespace, "client", image, ["pause"], "client"),
    ]


def deny_all_ingress(namespace: str) -> dict[str, Any]:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": "deny-all-ingress", "namespace": namespace},
        "spec": {"podSelector": {}, "policyTypes": ["Ingress"]},
    }


def canary_connect_command(server_ip: str) -> list[str]:
    return ["/agnhost", "connect", f"--timeout={CONNECT_TIMEOUT_S}s", _address(server_ip, CANARY_PORT)]
