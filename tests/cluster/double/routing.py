"""HTTP request handler: authentication, routing of the Kubernetes REST paths to the store and the tunnels."""

from __future__ import annotations

import copy
import json
import time
import uuid
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

import yaml

from . import discovery, tunnels
from .model import SERVER_VERSION, ApiError, Res, now, object_not_found, status_obj
from .patches import json_patch, match_fields, match_labels, merge_patch, strategic_merge


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    double: Any  # the Double this server class is bound to (store.Double)

    def log_message(self, fmt: str, *args: Any) -> None:  # quiet
        pass

    # plumbing
    def send_json(self, code: int, body: Any, ctype: str = "application/json") -> None:
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def send_text(self, code: int, text: str) -> None:
        data = text.encode()
        self.send_response(code)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def body(self) -> bytes:
        return self._body

    def read_body(self) -> bytes:  # always consume it (DELETE carries DeleteOptions), else keep-alive breaks
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def do_GET(self) -> None:
        self.dispatch("GET")

    def do_POST(self) -> None:
        self.dispatch("POST")

    def do_PUT(self) -> None:
        self.dispatch("PUT")

    def do_PATCH(self) -> None:
        self.dispatch("PATCH")

    def do_DELETE(self) -> None:
        self.dispatch("DELETE")

    def dispatch(self, method: str) -> None:
        d = self.double
        self._body = self.read_body()
        url = urlsplit(self.path)
        q = {k: v for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        d.log.append(
            (
                method,
                self.path,
                self.headers.get("Content-Type", ""),
                self.headers.get("Accept", ""),
                self.headers.get("Upgrade", ""),
                self.headers.get("Sec-WebSocket-Protocol", ""),
            )
        )
        auth = self.headers.get("Authorization")
        if (auth or d.require_token) and auth != f"Bearer {d.token}":
            self.send_json(401, status_obj(401, "Unauthorized", "Unauthorized"))
            return
        self.query = q
        try:
            self.route(method, url.path, q)
        except ApiError as exc:
            self.send_json(exc.code, exc.body)
        except (BrokenPipeError, ConnectionResetError):
            pass
        except Exception as exc:  # a double bug must surface as a 500 Status, not a dropped connection
            self.send_json(500, status_obj(500, "InternalError", f"double: {type(exc).__name__}: {exc}"))

    def route(self, method: str, path: str, q: dict) -> None:
        d = self.double
        parts = [p for p in path.split("/") if p]
        if path == "/version":
            return self.send_json(200, SERVER_VERSION)
        if parts and parts[0] in ("readyz", "livez", "healthz"):
            checks = d.readyz_checks
            if parts[0] == "livez":
                checks = {k: v for k, v in checks.items() if k in ("ping", "log", "etcd")}
            ok = all(checks.values())
            if "verbose" in q:
                lines = [
                    f"[{'+' if v else '-'}]{k} {'ok' if v else 'failed: reason withheld'}" for k, v in checks.items()
                ]
                text = "\n".join(lines) + f"\n{parts[0]} check {'passed' if ok else 'failed'}\n"
            else:
                text = "ok" if ok else f"{parts[0]} check failed"
            return self.send_text(200 if ok else 500, text)
        if parts[:1] == ["openapi"]:
            return self.send_json(200, discovery.openapi(d, parts))
        if path == "/api":
            return self.send_json(
                200,
                {
                    "kind": "APIVersions",
                    "versions": ["v1"],
                    "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1:6443"}],
                },
            )
        if path == "/apis":
            groups: dict[str, list] = {}
            for r in d.resources:
                if r.group and r.version not in groups.setdefault(r.group, []):
                    groups[r.group].append(r.version)
            return self.send_json(
                200,
                {
                    "kind": "APIGroupList",
                    "apiVersion": "v1",
                    "groups": [
                        {
                            "name": g,
                            "versions": [{"groupVersion": f"{g}/{v}", "version": v} for v in vs],
                            "preferredVersion": {"groupVersion": f"{g}/{vs[0]}", "version": vs[0]},
                        }
                        for g, vs in groups.items()
                    ],
                },
            )
        if parts[:1] == ["api"] and len(parts) >= 2:
            group, version, rest = "", parts[1], parts[2:]
        elif parts[:1] == ["apis"] and len(parts) >= 3:
            group, version, rest = parts[1], parts[2], parts[3:]
        elif parts[:1] == ["apis"] and len(parts) == 2:
            vs = [r.version for r in d.resources if r.group == parts[1]]
            if not vs:
                raise ApiError(404, "NotFound", "the server could not find the requested resource")
            return self.send_json(
                200,
                {
                    "kind": "APIGroup",
                    "apiVersion": "v1",
                    "name": parts[1],
                    "versions": [{"groupVersion": f"{parts[1]}/{v}", "version": v} for v in dict.fromkeys(vs)],
                    "preferredVersion": {"groupVersion": f"{parts[1]}/{vs[0]}", "version": vs[0]},
                },
            )
        else:
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        if not rest:
            return self.send_json(200, discovery.resource_list(d.resources, group, version))
        ns = None
        if rest[0] == "namespaces" and len(rest) >= 3:
            ns, rest = rest[1], rest[2:]
        res = d.find_res(group, version, rest[0])
        name = rest[1] if len(rest) > 1 else None
        sub = rest[2] if len(rest) > 2 else None
        if group == "metrics.k8s.io":
            return self.metrics(res, ns, name)
        if res.plural == "subjectaccessreviews" or res.plural == "selfsubjectaccessreviews":
            return self.review(res)
        if sub == "log":
            return self.pod_log(ns, name, q)
        if sub == "exec":
            return tunnels.pod_exec(self, ns, name, q)
        if sub == "portforward":
            return tunnels.pod_portforward(self, ns, name, q)
        if sub == "proxy" or (len(rest) > 3 and rest[2] == "proxy"):
            return self.proxy(res, ns, name, "/" + "/".join(rest[3:]))
        if method == "GET" and name is None:
            if q.get("watch", ["false"])[0] in ("true", "1"):
                return self.watch(res, ns, q)
            return self.list(res, ns, q)
        if method == "GET":
            return self.send_json(200, self.get_obj(res, ns, name))
        if method == "POST" and name is None:
            return self.create(res, ns)
        if method == "PATCH" and name:
            return self.patch(res, ns, name, sub, q)
        if method == "PUT" and name:
            return self.replace(res, ns, name, sub)
        if method == "DELETE" and name:
            return self.delete(res, ns, name)
        raise ApiError(405, "MethodNotAllowed", f"{method} not supported by the double")

    # discovery
    # CRUD
    def key(self, res: Res, ns: str | None, name: str) -> tuple:
        return (res.group, res.plural, ns if res.namespaced else None, name)

    def get_obj(self, res: Res, ns: str | None, name: str) -> dict:
        obj = self.double.store.get(self.key(res, ns, name))
        if obj is None:
            raise object_not_found(res.plural, res.group, name)
        return obj

    def selected(self, res: Res, ns: str | None, q: dict) -> list:
        labels = q.get("labelSelector", [""])[0]
        fields = q.get("fieldSelector", [""])[0]
        out = []
        for (g, p, ons, _), obj in sorted(self.double.store.items(), key=lambda kv: str(kv[0])):
            same_type = g == res.group and p == res.plural and (ns is None or ons == ns)
            if same_type and match_labels(obj["metadata"].get("labels") or {}, labels) and match_fields(obj, fields):
                out.append(obj)
        return out

    def list(self, res: Res, ns: str | None, q: dict) -> None:
        items = self.selected(res, ns, q)
        self.send_json(
            200,
            {
                "kind": res.kind + "List",
                "apiVersion": res.gv,
                "metadata": {"resourceVersion": str(self.double.rv)},
                "items": items,
            },
        )

    def watch(self, res: Res, ns: str | None, q: dict) -> None:
        d = self.double
        since = int(q.get("resourceVersion", ["0"])[0] or 0)
        deadline = time.monotonic() + float(q.get("timeoutSeconds", ["1800"])[0])
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        labels, fields = q.get("labelSelector", [""])[0], q.get("fieldSelector", [""])[0]
        if since == 0:  # no RV: synthetic ADDED for current state, as the apiserver does
            for obj in self.selected(res, ns, q):
                self.chunk({"type": "ADDED", "object": obj})
            since = d.rv
        if q.get("sendInitialEvents", [""])[0] == "true":  # WatchList (client-go WatchListClient gate, on in 1.37)
            self.chunk(
                {
                    "type": "BOOKMARK",
                    "object": {
                        "kind": res.kind,
                        "apiVersion": res.gv,
                        "metadata": {
                            "resourceVersion": str(since),
                            "annotations": {"k8s.io/initial-events-end": "true"},
                        },
                    },
                }
            )
        while time.monotonic() < deadline:
            with d.cond:
                evs = [e for e in d.events if e[0] > since]
                if not evs:
                    d.cond.wait(timeout=1.0)
                    continue
            for rv, kind, (g, p, ons, _), obj in evs:
                since = rv
                if (
                    g == res.group
                    and p == res.plural
                    and (ns is None or ons == ns)
                    and match_labels(obj["metadata"].get("labels") or {}, labels)
                    and match_fields(obj, fields)
                ):
                    self.chunk({"type": kind, "object": obj})
        self.wfile.write(b"0\r\n\r\n")

    def chunk(self, event: dict) -> None:
        data = json.dumps(event).encode() + b"\n"
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def parse_body(self) -> Any:
        raw = self.body()
        try:
            return json.loads(raw)
        except ValueError:
            return yaml.safe_load(raw)

    def admit(self, res: Res, ns: str | None, obj: dict) -> dict:
        self.double.field_validation.append(self.query.get("fieldValidation", [""])[0])
        obj.setdefault("apiVersion", res.gv)
        obj.setdefault("kind", res.kind)
        if res.namespaced:
            if ns is None:
                raise ApiError(400, "BadRequest", "namespace required")
            if ("", "namespaces", None, ns) not in self.double.store:
                raise ApiError(404, "NotFound", f'namespaces "{ns}" not found')
        self.double.validate(obj)
        return obj

    def after_write(self, res: Res, obj: dict) -> None:
        if res.plural == "customresourcedefinitions":
            self.double.register_crd(obj)
        if res.plural == "namespaces":
            obj.setdefault("status", {"phase": "Active"})

    def create(self, res: Res, ns: str | None) -> None:
        obj = self.admit(res, ns, self.parse_body())
        meta = obj.setdefault("metadata", {})
        if not meta.get("name") and meta.get("generateName"):
            meta["name"] = meta["generateName"] + uuid.uuid4().hex[:5]
        if self.key(res, ns, meta["name"]) in self.double.store:
            raise ApiError(409, "AlreadyExists", f'{res.plural} "{meta["name"]}" already exists')
        self.after_write(res, obj)
        self.send_json(201, self.double.put(res.group, res.plural, ns if res.namespaced else None, obj))

    def replace(self, res: Res, ns: str | None, name: str, sub: str | None) -> None:
        new = self.parse_body()
        old = self.get_obj(res, ns, name)
        if sub == "status":
            new = {**old, "status": new.get("status")}
        self.admit(res, ns, new)
        self.after_write(res, new)
        self.send_json(200, self.double.put(res.group, res.plural, ns if res.namespaced else None, new))

    def patch(self, res: Res, ns: str | None, name: str, sub: str | None, q: dict) -> None:
        ctype = (self.headers.get("Content-Type") or "").split(";")[0]
        body = self.parse_body()
        key = self.key(res, ns, name)
        old = self.double.store.get(key)
        if ctype == "application/apply-patch+yaml":
            manager = q.get("fieldManager", [""])[0]
            if not manager:
                raise ApiError(400, "BadRequest", "fieldManager is required for apply requests")
            base = copy.deepcopy(old) if old else {}
            if sub == "status":
                merged = {**base, "status": merge_patch(base.get("status"), body.get("status"))}
            else:
                merged = merge_patch(base, {k: v for k, v in body.items() if k != "status" or not old})
            meta = merged.setdefault("metadata", {})
            meta["managedFields"] = [
                {
                    "manager": manager,
                    "operation": "Apply",
                    "apiVersion": res.gv,
                    "time": now(),
                    "fieldsType": "FieldsV1",
                    "fieldsV1": {},
                }
            ]
            self.admit(res, ns, merged)
            self.after_write(res, merged)
            out = self.double.put(res.group, res.plural, ns if res.namespaced else None, merged)
            return self.send_json(200 if old else 201, out)
        if old is None:
            raise object_not_found(res.plural, res.group, name)
        target = copy.deepcopy(old)
        if ctype == "application/merge-patch+json":
            new = merge_patch(target, body)
        elif ctype == "application/strategic-merge-patch+json":
            if res.group and "." in res.group and not res.group.endswith("k8s.io"):
                raise ApiError(415, "UnsupportedMediaType", "strategic merge patch is not supported for CRDs")
            new = strategic_merge(target, body)
        elif ctype == "application/json-patch+json":
            new = json_patch(target, body)
        else:
            raise ApiError(415, "UnsupportedMediaType", f"patch type {ctype} not supported")
        if sub == "status":
            new = {**old, "status": new.get("status")}
        elif sub == "ephemeralcontainers":
            new = {
                **old,
                "spec": {**old.get("spec", {}), "ephemeralContainers": new["spec"].get("ephemeralContainers")},
            }
        elif "status" in old:
            new["status"] = old["status"]  # main resource ignores status changes
        self.admit(res, ns, new)
        self.after_write(res, new)
        self.send_json(200, self.double.put(res.group, res.plural, ns if res.namespaced else None, new))

    def delete(self, res: Res, ns: str | None, name: str) -> None:
        d = self.double
        obj = d.remove(self.key(res, ns, name))
        if obj is None:
            raise object_not_found(res.plural, res.group, name)
        if res.plural == "namespaces":
            for key in [k for k in d.store if k[2] == name]:
                d.remove(key)
        self.send_json(200, obj)

    # special resources
    def review(self, res: Res) -> None:
        body = self.parse_body()
        body.setdefault("apiVersion", res.gv)
        body["metadata"] = {"creationTimestamp": None}
        body["status"] = self.double.sar_answer(body.get("spec") or {})
        self.send_json(201, body)

    def metrics(self, res: Res, ns: str | None, name: str | None) -> None:
        d = self.double
        items = (
            d.metrics["nodes"]
            if res.plural == "nodes"
            else (d.metrics["pods"].get(ns, []) if ns else [m for v in d.metrics["pods"].values() for m in v])
        )
        if name:
            found = [m for m in items if m["metadata"]["name"] == name]
            if not found:
                raise ApiError(404, "NotFound", f'{res.plural}.metrics.k8s.io "{name}" not found')
            return self.send_json(200, found[0])
        self.send_json(
            200, {"kind": res.kind + "List", "apiVersion": "metrics.k8s.io/v1beta1", "metadata": {}, "items": items}
        )

    def proxy(self, res: Res, ns: str | None, name: str, path: str) -> None:
        """The API server's service proxy (`services/[scheme:]NAME[:PORT]/proxy/PATH`): the scenario answers."""
        if res.plural != "services" or ns is None:
            raise ApiError(503, "ServiceUnavailable", f"double: no proxy for {res.plural}/{name}{path}")
        parts = name.split(":")
        service = parts[1] if len(parts) == 3 or parts[0] in ("http", "https") else parts[0]
        self.get_obj(res, ns, service)  # 404 for a Service that does not exist, as the API server answers
        query = urlsplit(self.path).query
        answer = (
            self.double.proxy_answer(ns, service, path + (f"?{query}" if query else ""))
            if self.double.proxy_answer
            else None
        )
        if answer is None:
            raise ApiError(503, "ServiceUnavailable", f'no endpoints available for service "{service}"')
        code, ctype, body = answer
        data = body.encode()
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def pod_log(self, ns: str, name: str, q: dict) -> None:
        pod = self.get_obj(self.double.find_res("", "v1", "pods"), ns, name)
        containers = [c["name"] for c in pod.get("spec", {}).get("containers", [])]
        container = q.get("container", [containers[0] if len(containers) == 1 else ""])[0]
        if not container:
            raise ApiError(
                400, "BadRequest", f"a container name must be specified for pod {name}, choose one of: {containers}"
            )
        text = self.double.pod_logs.get((ns, name, container), "")
        if "tailLines" in q:
            n = int(q["tailLines"][0])
            text = "".join(text.splitlines(keepends=True)[-n:]) if n else ""
        self.send_text(200, text)
