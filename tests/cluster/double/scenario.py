"""Scenarios: a small YAML file saying what the modelled cluster does (nodes, readyz checks, the objects it
reports, what exec into a container answers), loaded into a Double."""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .model import CORE, ApiError
from .store import Double

CONTROL_PLANE = "node-role.kubernetes.io/control-plane"
ETCD = "node-role.kubernetes.io/etcd"


@dataclass(frozen=True)
class ExecAnswer:
    """What `command` returns in the containers matching the glob patterns."""

    command: tuple[str, ...]
    rc: int = 0
    stdout: str = ""
    stderr: str = ""
    namespace: str = "*"
    pod: str = "*"
    container: str = "*"

    def matches(self, ns: str, pod: str, container: str, argv: list[str]) -> bool:
        where = zip((self.namespace, self.pod, self.container), (ns, pod, container), strict=True)
        return tuple(argv) == self.command and all(fnmatch.fnmatchcase(v, p) for p, v in where)


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    readyz: dict[str, bool]
    objects: list[dict[str, Any]]
    exec_answers: list[ExecAnswer] = field(default_factory=list)

    def exec_handler(self, ns: str, pod: str, container: str, argv: list) -> tuple[int, str, str]:
        for answer in self.exec_answers:
            if answer.matches(ns, pod, container, argv):
                return answer.rc, answer.stdout, answer.stderr
        return 127, "", f"test double: scenario {self.name!r} has no answer for {' '.join(argv)}\n"


def node(spec: dict[str, Any]) -> dict[str, Any]:
    """A Node object from the short form {name, ready, roles, conditions}."""
    labels = {"kubernetes.io/hostname": spec["name"]}
    for role in spec.get("roles") or []:
        labels[f"node-role.kubernetes.io/{role}"] = "true"
    ready = spec.get("ready", True)
    conditions = [
        {"type": "Ready", "status": "True" if ready else "False", "reason": spec.get("reason", "KubeletReady")},
        *({"type": t, "status": "False", "reason": f"KubeletHas{t}"} for t in ("MemoryPressure", "DiskPressure")),
    ]
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": spec["name"], "labels": labels},
        "spec": {},
        "status": {"conditions": conditions, "nodeInfo": _node_info(spec)},
    }


def _node_info(spec: dict[str, Any]) -> dict[str, str]:
    # Every field the Node schema requires in nodeInfo (strict validation rejects a partial one).
    keys = ("bootID", "containerRuntimeVersion", "kernelVersion", "kubeProxyVersion", "machineID", "osImage")
    info = dict.fromkeys((*keys, "systemUUID"), "")
    info.update({"kubeletVersion": "v1.33.1-test-double", "operatingSystem": "linux", "architecture": "amd64"})
    return info


def identity(obj: dict[str, Any]) -> tuple[str, str, str]:
    meta = obj.get("metadata") or {}
    return str(obj.get("kind")), str(meta.get("namespace", "")), str(meta.get("name"))


def extend(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """`extends: NAME`: nodes and namespaces are replaced, readyz merged, objects replaced by kind/namespace/name,
    exec answers put first (the first matching answer wins)."""
    merged = {**base, **{k: v for k, v in override.items() if k in ("description", "nodes", "namespaces")}}
    merged["readyz"] = {**(base.get("readyz") or {}), **(override.get("readyz") or {})}
    replaced = {identity(o): o for o in override.get("objects") or []}
    kept = [replaced.pop(identity(o), o) for o in base.get("objects") or []]
    merged["objects"] = [*kept, *replaced.values()]
    merged["exec"] = [*(override.get("exec") or []), *(base.get("exec") or [])]
    return merged


def read(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if data.get("extends"):
        return extend(read(path.with_name(f"{data['extends']}.yaml")), data)
    return data


def load(path: Path) -> Scenario:
    data = read(path)
    objects = [
        *({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}} for ns in data.get("namespaces") or []),
        *(node(n) for n in data.get("nodes") or []),
        *(data.get("objects") or []),
    ]
    answers = [
        ExecAnswer(**{**a, "command": tuple(a["command"])})  # YAML lists -> the tuple the matcher compares
        for a in data.get("exec") or []
    ]
    return Scenario(path.stem, str(data.get("description", "")), dict(data.get("readyz") or {}), objects, answers)


def plural_of(obj: dict[str, Any]) -> tuple[str, str]:
    group = str(obj.get("apiVersion", "")).rpartition("/")[0]
    for res in CORE:
        if res.group == group and res.kind == obj.get("kind"):
            return res.group, res.plural
    raise ApiError(400, "BadRequest", f"test double: scenario kind {obj.get('kind')} is not served")


def install(scenario: Scenario, double: Double) -> None:
    """Put the scenario's objects in the store (each validated like an API write) and wire its behaviour."""
    double.readyz_checks.update(scenario.readyz)
    double.exec_handler = scenario.exec_handler
    for obj in scenario.objects:
        double.validate(obj)
        group, plural = plural_of(obj)
        namespaced = next(r.namespaced for r in CORE if r.group == group and r.plural == plural)
        ns = (obj.get("metadata") or {}).get("namespace") if namespaced else None
        double.put(group, plural, ns, obj)
