"""Schema validation of core kinds with kubernetes-validate's strict schemas, one cached validator per kind."""

from __future__ import annotations

import functools
import json
from importlib import resources
from typing import Any

from .model import ApiError

SCHEMAS = "kubernetes-json-schema"


@functools.cache
def _validator(version: str, filename: str) -> Any | None:
    # Heavy third-party imports kept here: only a double with validation on needs them.
    import jsonschema
    from referencing import Registry, Resource

    base = resources.files("kubernetes_validate") / SCHEMAS / f"v{version}.0-local-strict"
    schema_file = base / filename
    if not schema_file.is_file():
        return None
    defs = Resource.from_contents(json.loads((base / "_definitions.json").read_text()))
    schema = json.loads(schema_file.read_text())
    return jsonschema.Draft202012Validator(schema, registry=Resource.from_contents(schema) @ (defs @ Registry()))


def schema_file(obj: dict) -> str:
    """kubernetes-validate's file name for an object: `<kind>-<group prefix>-<version>.json`."""
    group, _, version = str(obj.get("apiVersion", "")).rpartition("/")
    prefix = group.split(".")[0]
    return "-".join(p for p in (str(obj.get("kind", "")).lower(), prefix, version) if p) + ".json"


def is_core(obj: dict) -> bool:
    group = str(obj.get("apiVersion", "")).rpartition("/")[0]
    return "." not in group or group.endswith(".k8s.io")


def validate_core(obj: dict, version: str) -> None:
    """422 Invalid (as an API server answers) when a core-kind object breaks its strict schema; CRD kinds pass."""
    if not is_core(obj):
        return
    validator = _validator(version, schema_file(obj))
    if validator is None:
        return
    error = next(iter(validator.iter_errors(obj)), None)
    if error is not None:
        where = "/".join(map(str, error.path)) or "."
        raise ApiError(
            422, "Invalid", f"{obj.get('kind')} is invalid (kubernetes-validate): {error.message} at {where}"
        )
