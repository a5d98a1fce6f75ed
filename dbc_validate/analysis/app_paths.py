"""The app-path truth table: flows the NetworkPolicies must allow or deny, judged by the engine (pure)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from dbc_validate.analysis.netpol import ClusterModel, UnknownEndpoint, allowed
from dbc_validate.errors import InputError

_FIELDS = {"from", "to", "port", "protocol", "allowed", "why"}


@dataclass(frozen=True)
class AppPath:
    source: str  # "namespace/workload"
    destination: str
    port: int
    protocol: str
    allowed: bool
    why: str

    def describe(self) -> str:
        return f"{self.source} -> {self.destination} {self.port}/{self.protocol}"


@dataclass(frozen=True)
class PathVerdict:
    path: AppPath
    actual: bool | None  # None: a workload of the path is not in the manifest set
    explanation: str

    @property
    def agrees(self) -> bool:
        return self.actual is self.path.allowed

    def describe(self) -> str:
        expected = "allowed" if self.path.allowed else "denied"
        if self.actual is None:
            return f"{self.path.describe()}: must be {expected} ({self.path.why}) but {self.explanation}"
        actual = "allowed" if self.actual else "denied"
        return f"{self.path.describe()}: must be {expected} ({self.path.why}) but is {actual}: {self.explanation}"


def parse_app_paths(data: Any, origin: str) -> list[AppPath]:
    """Entries of a truth table ({paths: [{from, to, port, protocol, allowed, why}]}); InputError when malformed."""
    entries = data.get("paths") if isinstance(data, Mapping) else None
    if not isinstance(entries, list) or not entries:
        raise InputError(f"{origin} has no `paths:` list", "write the table as paths: [{from, to, port, ...}]")
    paths: list[AppPath] = []
    seen: set[tuple[str, str, int, str]] = set()
    for index, entry in enumerate(entries):
        where = f"{origin} paths[{index}]"
        if not isinstance(entry, Mapping) or set(entry) != _FIELDS:
            raise InputError(f"{where} must have exactly the keys {sorted(_FIELDS)}", "fix that entry")
        if entry["protocol"] not in ("TCP", "UDP", "SCTP") or not isinstance(entry["port"], int):
            raise InputError(f"{where}: port must be an integer and protocol TCP, UDP or SCTP", "fix that entry")
        if not isinstance(entry["allowed"], bool) or not str(entry["why"]).strip():
            raise InputError(f"{where}: allowed must be true/false and why must say which policy decides", "fix it")
        path = AppPath(
            str(entry["from"]), str(entry["to"]), entry["port"], entry["protocol"], entry["allowed"], str(entry["why"])
        )
        key = (path.source, path.destination, path.port, path.protocol)
        if key in seen:
            raise InputError(f"{where} repeats {path.describe()}", "keep one entry per flow")
        seen.add(key)
        paths.append(path)
    return paths


def judge_app_paths(model: ClusterModel, paths: Sequence[AppPath]) -> list[PathVerdict]:
    """What the engine decides for every path of the table, with its explanation."""
    verdicts = []
    for path in paths:
        try:
            decision = allowed(model, path.source, path.destination, path.port, path.protocol)
        except UnknownEndpoint as exc:
            known = str(exc.args[0])[:300]
            verdicts.append(PathVerdict(path, None, f"a workload is not in the manifest set ({known})"))
            continue
        verdicts.append(PathVerdict(path, decision.allowed, decision.explanation.text()))
    return verdicts
