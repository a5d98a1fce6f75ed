"""The double's state: objects by (group, plural, namespace, name), the event log watches read, and what the
scenario scripts (readyz checks, SubjectAccessReview answers, exec answers, metrics, logs, forwards)."""

from __future__ import annotations

import copy
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .model import CORE, ApiError, Res, now
from .validation import validate_core

ExecHandler = Callable[[str, str, str, list], tuple]  # (ns, pod, container, argv) -> (rc, stdout, stderr)


def deny_all(spec: dict) -> dict:
    return {"allowed": False, "reason": "double: denied by default"}


@dataclass
class Double:
    tls: bool = False
    token: str = "double-token"
    field_validation: list = field(default_factory=list)  # fieldValidation= seen on each write
    require_token: bool = False  # kubectl 1.37 sends no bearer token over plain http (see FINDINGS)
    validate_version: str | None = None  # e.g. "1.33": validate core kinds with kubernetes-validate
    log: list = field(default_factory=list)  # (method, path, content-type) of every request
    exec_handler: ExecHandler | None = None
    forwards: dict = field(default_factory=dict)  # (ns, pod, port) -> (host, port)
    readyz_checks: dict = field(
        default_factory=lambda: {"ping": True, "log": True, "etcd": True, "etcd-readiness": True, "informer-sync": True}
    )
    sar_answer: Callable[[dict], dict] = deny_all
    controller: Any = None  # controller.Controller: shapes what is written, reacts to writes and deletes
    route_forward: Callable[[str, str, int], tuple | None] | None = None  # (ns, pod, port) -> (host, port)
    proxy_answer: Callable[[str, str, str], tuple | None] | None = None  # (ns, service, path) -> (code, ctype, body)
    closers: list = field(default_factory=list)  # stopped with the server (local backends)

    def __post_init__(self) -> None:
        self.resources: list[Res] = list(CORE)
        self.store: dict[tuple, dict] = {}  # (group, plural, ns, name) -> obj
        self.rv = 1000
        self.events: list[tuple] = []  # (rv, type, key, obj)
        self.cond = threading.Condition()
        self.pod_logs: dict[tuple, str] = {}  # (ns, pod, container) -> text
        self.metrics: dict = {"nodes": [], "pods": {}}
        for ns in ("default", "kube-system"):
            self.put(
                "",
                "namespaces",
                None,
                {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}, "status": {"phase": "Active"}},
            )

    def find_res(self, group: str, version: str, plural: str) -> Res:
        for r in self.resources:
            if r.group == group and r.version == version and r.plural == plural:
                return r
        raise ApiError(404, "NotFound", "the server could not find the requested resource")

    def put(self, group: str, plural: str, ns: str | None, obj: dict, event: str | None = None) -> dict:
        with self.cond:
            self.rv += 1
            meta = obj.setdefault("metadata", {})
            meta.setdefault("uid", str(uuid.uuid4()))
            meta.setdefault("creationTimestamp", now())
            meta["resourceVersion"] = str(self.rv)
            if ns:
                meta["namespace"] = ns
            key = (group, plural, ns, meta["name"])
            if self.controller is not None:
                obj = self.controller.shape(key, obj)
                self.validate(obj)  # what the modelled cluster writes must be valid too
            kind = event or ("MODIFIED" if key in self.store else "ADDED")
            self.store[key] = obj
            self.events.append((self.rv, kind, key, copy.deepcopy(obj)))
            self.cond.notify_all()
            if self.controller is not None:
                self.controller.react(kind, key, obj)
            return obj

    def remove(self, key: tuple) -> dict | None:
        with self.cond:
            obj = self.store.pop(key, None)
            if obj is not None:
                self.rv += 1
                obj["metadata"]["resourceVersion"] = str(self.rv)
                self.events.append((self.rv, "DELETED", key, copy.deepcopy(obj)))
                self.cond.notify_all()
                if self.controller is not None:
                    self.controller.react("DELETED", key, obj)
            return obj

    def validate(self, obj: dict) -> None:
        if self.validate_version:
            validate_core(obj, self.validate_version)

    def register_crd(self, crd: dict) -> None:
        spec = crd.get("spec", {})
        names = spec.get("names", {})
        for v in spec.get("versions", []):
            if not v.get("served", True):
                continue
            subs = tuple(k for k in (v.get("subresources") or {}) if k in ("status", "scale"))
            r = Res(
                spec["group"],
                v["name"],
                names["plural"],
                names["kind"],
                spec.get("scope") == "Namespaced",
                tuple(names.get("shortNames") or ()),
                subs,
            )
            if not any(x.group == r.group and x.version == r.version and x.plural == r.plural for x in self.resources):
                self.resources.append(r)
