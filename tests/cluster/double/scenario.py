"""Scenarios: a small YAML file saying what the modelled cluster does (nodes, readyz checks, the objects it
reports, what exec into a container answers), loaded into a Double."""

from __future__ import annotations

import copy
import fnmatch
import functools
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .backends import HttpBackend, ProxyAnswer, proxy_answers
from .controller import Behaviour, Controller, Patch, exec_chain
from .crds import ADDON_CRDS
from .model import ApiError, Res
from .rbac import authorizer
from .store import Double

MANIFESTS = Path(__file__).resolve().parents[3] / "manifests"
# libyaml's loader when PyYAML has it: the rendered set is about 500 objects, a scenario file a few hundred lines.
_YAML_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

CONTROL_PLANE = "node-role.kubernetes.io/control-plane"
ETCD = "node-role.kubernetes.io/etcd"


@dataclass(frozen=True)
class ExecAnswer:
    """What `command` (each word a glob) returns in the containers matching the glob patterns."""

    command: tuple[str, ...]
    rc: int = 0
    stdout: str = ""
    stderr: str = ""
    namespace: str = "*"
    pod: str = "*"
    container: str = "*"

    def matches(self, ns: str, pod: str, container: str, argv: list[str]) -> bool:
        where = zip((self.namespace, self.pod, self.container), (ns, pod, container), strict=True)
        words = len(argv) == len(self.command) and all(
            fnmatch.fnmatchcase(a, c) for a, c in zip(argv, self.command, strict=True)
        )
        return words and all(fnmatch.fnmatchcase(v, p) for p, v in where)


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    readyz: dict[str, bool]
    objects: list[dict[str, Any]]
    exec_answers: list[ExecAnswer] = field(default_factory=list)
    behaviour: Behaviour = field(default_factory=Behaviour)
    proxy: list[ProxyAnswer] = field(default_factory=list)
    http: dict[str, Any] | None = None  # {pods: "ns/pod glob", port, status, body, hosts}

    def exec_handler(self, ns: str, pod: str, container: str, argv: list) -> tuple[int, str, str]:
        for answer in self.exec_answers:
            if answer.matches(ns, pod, container, argv):
                return answer.rc, answer.stdout, answer.stderr
        return 127, "", f"test double: scenario {self.name!r} has no answer for {' '.join(argv)}\n"


def node(spec: dict[str, Any]) -> dict[str, Any]:
    """A Node object from the short form {name, ready, roles, conditions}."""
    labels = {"kubernetes.io/hostname": spec["name"]}
    # The share of allocatable CPU and memory the node's metrics report (controller.refresh_metrics).
    annotations = {"double/usage": str(spec["usage"])} if "usage" in spec else {}
    for role in spec.get("roles") or []:
        labels[f"node-role.kubernetes.io/{role}"] = "true"
    ready = spec.get("ready", True)
    capacity = {"cpu": str(spec.get("cpu", "4")), "memory": str(spec.get("memory", "8Gi")), "pods": "110"}
    conditions = [
        {"type": "Ready", "status": "True" if ready else "False", "reason": spec.get("reason", "KubeletReady")},
        *({"type": t, "status": "False", "reason": f"KubeletHas{t}"} for t in ("MemoryPressure", "DiskPressure")),
    ]
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": spec["name"], "labels": labels, "annotations": annotations},
        "spec": {},
        "status": {
            "conditions": conditions,
            "nodeInfo": _node_info(spec),
            "capacity": capacity,
            "allocatable": capacity,
        },
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


LISTED_FIRST = ("exec", "patches", "proxy", "logs")  # an extending scenario's entries win (first match)


def extend(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """`extends: NAME`: objects are replaced by kind/namespace/name, readyz merged, exec answers, patches, proxy
    answers and log rules put first (the first match wins), anything else (nodes, namespaces, ...) replaced."""
    merged = {**base, **{k: v for k, v in override.items() if k not in ("extends", "objects", "readyz", *LISTED_FIRST)}}
    merged["readyz"] = {**(base.get("readyz") or {}), **(override.get("readyz") or {})}
    replaced = {identity(o): o for o in override.get("objects") or []}
    kept = [replaced.pop(identity(o), o) for o in base.get("objects") or []]
    merged["objects"] = [*kept, *replaced.values()]
    for key in LISTED_FIRST:
        merged[key] = [*(override.get(key) or []), *(base.get(key) or [])]
    return merged


def read(path: Path) -> dict[str, Any]:
    data = yaml.load(path.read_text(encoding="utf-8"), Loader=_YAML_LOADER)
    if data.get("extends"):
        return extend(read(path.with_name(f"{data['extends']}.yaml")), data)
    return data


def rendered(overlay: str) -> list[dict[str, Any]]:
    """The project's manifest set for `overlay`, rendered by kubectl's kustomize (what a deploy applies); fresh
    objects on every call."""
    text = _kustomized(overlay, _tree_state(MANIFESTS))
    return [d for d in yaml.load_all(text, Loader=_YAML_LOADER) if d]


def _tree_state(folder: Path) -> tuple[tuple[str, int, int], ...]:
    """Every file under `folder` with its modification time and size: a changed manifest renders again."""
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    return tuple((str(p), p.stat().st_mtime_ns, p.stat().st_size) for p in files)


@functools.cache
def _kustomized(overlay: str, state: tuple[tuple[str, int, int], ...]) -> str:
    from dbc_validate.tools.binaries import find_program

    folder = MANIFESTS / "overlays" / overlay
    done = subprocess.run(
        [find_program("kubectl"), "kustomize", str(folder)], capture_output=True, text=True, check=True
    )
    return done.stdout


def load(path: Path, shape: dict[str, Any] | None = None) -> Scenario:
    """The scenario at `path`; `shape` (nodes and objects a kind/k3d config decides) extends it last, so its
    nodes replace the scenario's."""
    data = extend(read(path), shape) if shape else read(path)
    objects = [
        *({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}} for ns in data.get("namespaces") or []),
        *(node(n) for n in data.get("nodes") or []),
        *(rendered(data["manifests"]) if data.get("manifests") else []),
        *(data.get("objects") or []),
    ]
    answers = [
        ExecAnswer(**{**a, "command": tuple(a["command"])})  # YAML lists -> the tuple the matcher compares
        for a in data.get("exec") or []
    ]
    cni = data.get("cni") or {}
    usage = data.get("usage") or {}
    behaviour = Behaviour(
        patches=[Patch(**p) for p in data.get("patches") or []],
        never_ready=list(data.get("never_ready") or []),
        cni_enforces=bool(cni.get("enforces", True)),
        node_usage=float(usage.get("nodes", 0.2)),
        container_usage=float(usage.get("containers", 0.1)),
        logs=list(data.get("logs") or []),
        sealing=data.get("sealing") == "key",
    )
    return Scenario(
        path.stem,
        str(data.get("description", "")),
        dict(data.get("readyz") or {}),
        objects,
        answers,
        behaviour,
        [ProxyAnswer(**a) for a in data.get("proxy") or []],
        data.get("http"),
    )


def plural_of(double: Double, obj: dict[str, Any]) -> Res:
    group = str(obj.get("apiVersion", "")).rpartition("/")[0]
    for res in double.resources:
        if res.group == group and res.kind == obj.get("kind"):
            return res
    raise ApiError(400, "BadRequest", f"test double: scenario kind {obj.get('kind')} is not served")


def order(obj: dict[str, Any]) -> int:
    """Namespaces and definitions before what lives in them, as an API server needs them."""
    return {"Namespace": 0, "CustomResourceDefinition": 1}.get(str(obj.get("kind")), 2)


def install(scenario: Scenario, double: Double, host_ports: Sequence[int] = ()) -> None:
    """Put the scenario's objects in the store (each validated like an API write; the modelled controllers make
    their pods, claims and statuses) and wire its behaviour."""
    controller = Controller(double, scenario.behaviour)
    double.controller = controller
    for ns in controller.objects("", "namespaces"):  # made before the controller: label them as the API server does
        double.put("", "namespaces", None, ns)
    double.readyz_checks.update(scenario.readyz)
    double.exec_handler = exec_chain(scenario.exec_handler, controller)
    double.sar_answer = authorizer(lambda plural: controller.objects("rbac.authorization.k8s.io", plural))
    double.proxy_answer = proxy_answers(scenario.proxy)
    if scenario.http is not None:
        wire_http(double, scenario.http, host_ports)
    for obj in sorted([*ADDON_CRDS, *scenario.objects], key=order):
        obj = copy.deepcopy(obj)
        double.validate(obj)
        res = plural_of(double, obj)
        ns = (obj.get("metadata") or {}).get("namespace") if res.namespaced else None
        double.put(res.group, res.plural, ns, obj)
        if res.plural == "customresourcedefinitions":
            double.register_crd(obj)


def wire_http(double: Double, spec: dict[str, Any], host_ports: Sequence[int] = ()) -> None:
    """Port-forwards to the pods matching `spec["pods"]` on `spec["port"]` reach a local HTTP backend; so do the
    host ports a kind/k3d config maps to Traefik's NodePort."""
    answers = (int(spec.get("status", 200)), str(spec.get("body", "")), dict(spec.get("hosts") or {}))
    started = []
    for port in (0, *host_ports):
        backend = HttpBackend(*answers)
        started.append(backend.start(port))
        double.closers.append(backend.stop)
    local = started[0]
    pods, port = str(spec.get("pods", "*/*")), int(spec.get("port", 8000))

    def route(ns: str, pod: str, remote: int) -> tuple | None:
        return ("127.0.0.1", local) if remote == port and fnmatch.fnmatchcase(f"{ns}/{pod}", pods) else None

    double.route_forward = route
