"""Patch semantics (RFC 7386 merge, approximate strategic merge, RFC 6902 JSON patch) and selector matching."""

from __future__ import annotations

import copy
from typing import Any

from .model import ApiError


def merge_patch(target: Any, patch: Any) -> Any:  # RFC 7386
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for k, v in patch.items():
        if v is None:
            result.pop(k, None)
        else:
            result[k] = merge_patch(result.get(k), v)
    return result


MERGE_KEYS = {
    "containers": "name",
    "initContainers": "name",
    "ephemeralContainers": "name",
    "ports": "containerPort",
    "env": "name",
    "volumes": "name",
    "volumeMounts": "mountPath",
    "conditions": "type",
}


def strategic_merge(target: Any, patch: Any, key: str = "") -> Any:
    """Approximation of strategic merge patch: lists with a known merge key are merged by that key."""
    if isinstance(patch, list) and key in MERGE_KEYS and isinstance(target, list):
        mk = MERGE_KEYS[key]
        out = [copy.deepcopy(x) for x in target]
        for item in patch:
            idx = next((i for i, x in enumerate(out) if isinstance(x, dict) and x.get(mk) == item.get(mk)), None)
            if idx is None:
                out.append(copy.deepcopy(item))
            else:
                out[idx] = strategic_merge(out[idx], item)
        return out
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for k, v in patch.items():
        if k.startswith("$"):
            continue
        if v is None:
            result.pop(k, None)
        else:
            result[k] = strategic_merge(result.get(k), v, k)
    return result


def json_patch(doc: Any, ops: list) -> Any:
    doc = copy.deepcopy(doc)

    def walk(path: str):
        parts = [p.replace("~1", "/").replace("~0", "~") for p in path.split("/")[1:]]
        parent = doc
        for p in parts[:-1]:
            parent = parent[int(p)] if isinstance(parent, list) else parent[p]
        return parent, parts[-1]

    for op in ops:
        parent, last = walk(op["path"])
        kind = op["op"]
        if kind in ("add", "replace"):
            if isinstance(parent, list):
                if last == "-":
                    parent.append(op["value"])
                elif kind == "add":
                    parent.insert(int(last), op["value"])
                else:
                    parent[int(last)] = op["value"]
            else:
                parent[last] = op["value"]
        elif kind == "remove":
            del parent[int(last) if isinstance(parent, list) else last]
        elif kind == "test":
            val = parent[int(last)] if isinstance(parent, list) else parent.get(last)
            if val != op["value"]:
                raise ApiError(422, "Invalid", f"test failed at {op['path']}")
        else:
            raise ApiError(400, "BadRequest", f"json patch op {kind} not supported by the double")
    return doc


# ---------------------------------------------------------------------------------------------------------
def match_labels(labels: dict, selector: str) -> bool:
    if not selector:
        return True
    for term in [t.strip() for t in selector.split(",") if t.strip()]:
        if "!=" in term:
            k, v = term.split("!=", 1)
            if labels.get(k.strip()) == v.strip():
                return False
        elif "==" in term or "=" in term:
            k, v = term.replace("==", "=").split("=", 1)
            if labels.get(k.strip()) != v.strip():
                return False
        elif " in " in term or " notin " in term:
            neg = " notin " in term
            k, vals = term.split(" notin " if neg else " in ", 1)
            vals = {v.strip() for v in vals.strip().strip("()").split(",")}
            if (labels.get(k.strip()) in vals) == neg:
                return False
        elif term.startswith("!"):
            if term[1:] in labels:
                return False
        elif term not in labels:
            return False
    return True


def field_value(obj: dict, path: str) -> str:
    cur: Any = obj
    for p in path.split("."):
        cur = cur.get(p) if isinstance(cur, dict) else None
    return "" if cur is None else str(cur)


def match_fields(obj: dict, selector: str) -> bool:
    for term in [t.strip() for t in (selector or "").split(",") if t.strip()]:
        if "!=" in term:
            k, v = term.split("!=", 1)
            if field_value(obj, k) == v:
                return False
        else:
            k, v = term.replace("==", "=").split("=", 1)
            if field_value(obj, k) != v:
                return False
    return True


# ---------------------------------------------------------------------------------------------------------
