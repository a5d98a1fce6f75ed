"""Discovery documents (legacy /api, /apis shapes) and the minimal OpenAPI v3 kubectl needs for apply/create."""

from __future__ import annotations

from typing import Any

from .model import SUB_KINDS, SUB_VERBS, ApiError, Res


def resource_list(resources: list[Res], group: str, version: str) -> dict:
    res = [r for r in resources if r.group == group and r.version == version]
    if not res:
        raise ApiError(404, "NotFound", "the server could not find the requested resource")
    out = []
    for r in res:
        out.append(
            {
                "name": r.plural,
                "singularName": r.kind.lower(),
                "namespaced": r.namespaced,
                "kind": r.kind,
                "verbs": list(r.verbs),
                **({"shortNames": list(r.short)} if r.short else {}),
            }
        )
        for s in r.subresources:
            out.append(
                {
                    "name": f"{r.plural}/{s}",
                    "singularName": "",
                    "namespaced": r.namespaced,
                    "kind": SUB_KINDS.get(s) or r.kind,
                    "verbs": SUB_VERBS.get(s, ["get"]),
                }
            )
    return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": res[0].gv, "resources": out}


def openapi(double: Any, parts: list) -> dict:
    """Just enough OpenAPI v3 for kubectl's fieldValidation support check (query_param_verifier_v3): every
    write operation carries x-kubernetes-group-version-kind and the fieldValidation query parameter, so
    kubectl sends ?fieldValidation=Strict and skips client-side schema validation (the double validates)."""
    d = double
    if parts[1:2] != ["v3"]:
        raise ApiError(404, "NotFound", "the server could not find the requested resource (openapi/v2)")
    gvs = {("api/" if not r.group else "apis/") + r.gv for r in d.resources}
    if len(parts) == 2:
        return {"paths": {gv: {"serverRelativeURL": f"/openapi/v3/{gv}?hash={d.rv}"} for gv in sorted(gvs)}}
    gv = "/".join(parts[2:])
    if gv not in gvs:
        raise ApiError(404, "NotFound", "the server could not find the requested resource")
    param = [
        {"name": "fieldValidation", "in": "query", "schema": {"type": "string", "uniqueItems": True}},
        {"name": "fieldManager", "in": "query", "schema": {"type": "string", "uniqueItems": True}},
    ]
    paths: dict = {}
    for r in d.resources:
        if ("api/" if not r.group else "apis/") + r.gv != gv:
            continue
        gvk = {"group": r.group, "version": r.version, "kind": r.kind}
        base = f"/{gv}/" + ("namespaces/{namespace}/" if r.namespaced else "") + r.plural
        coll = {"post": operation(gvk, param)} if "create" in r.verbs else {}
        item = {verb: operation(gvk, param) for verb, v in (("patch", "patch"), ("put", "update")) if v in r.verbs}
        if not item and coll:
            # Not faithful: create-only kinds (SubjectAccessReview) have no PATCH on a real server, so kubectl
            # falls back to client-side validation with /openapi/v2 (protobuf only). A PATCH entry makes it
            # send ?fieldValidation=Strict instead and the double validates server-side.
            item = {"patch": operation(gvk, param)}
        if coll:
            paths[base] = coll
        if item:
            paths[base + "/{name}"] = item
    return {
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes (double)", "version": "v1.33.1"},
        "paths": paths,
        "components": {"schemas": {}},
    }


def operation(gvk: dict, params: list) -> dict:
    return {"x-kubernetes-group-version-kind": gvk, "parameters": params, "responses": {"200": {"description": "OK"}}}
