"""Schema rule: core objects validated against the Kubernetes OpenAPI schemas bundled by kubernetes-validate.

The schemas are read from the kubernetes-validate package (its data, not our I/O) and compiled once per
version and kind, because kubernetes_validate.validate() reloads 1.6 MB of definitions per object.
Kinds it has no schema for (CRDs) are skipped with one info finding per kind.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from typing import Any

from dbc_validate.analysis.findings import Finding, finding
from dbc_validate.errors import InputError
from dbc_validate.manifests.model import K8sObject

DEFAULT_KUBE_VERSION = "1.36"


def _utils() -> Any:
    # Imported on first use: kubernetes-validate and jsonschema cost a third of a second to import,
    # which collecting the Gate 1 suites should not pay.
    from kubernetes_validate import utils  # heavy: see above

    return utils


def supported_versions() -> list[str]:
    return list(dict.fromkeys(_utils().major_minor(v) for v in _utils().all_versions()))


def _minor(version: str) -> tuple[int, int] | None:
    """ "v1.36.2" -> (1, 36); None when it is not a version."""
    match = re.match(r"^v?(\d+)\.(\d+)(?:\.\d+)?$", version.strip())
    return (int(match[1]), int(match[2])) if match else None


def schema_version(kube_version: str) -> str:
    """The newest bundled schema version not newer than `kube_version` ("1.36" -> "1.36.0")."""
    target = _minor(kube_version)
    bundled = {v: m for v in _utils().all_versions() if (m := _minor(v)) is not None}
    candidates = [v for v, minor in bundled.items() if target is not None and minor <= target]
    if target is None or not candidates or target > max(bundled.values()):
        versions = supported_versions()
        raise InputError(
            f"kubernetes-validate has no schemas for Kubernetes {kube_version!r}",
            f"pass a version between {versions[0]} and {versions[-1]}, e.g. {DEFAULT_KUBE_VERSION}",
        )
    return candidates[-1]


@functools.cache
def _registry(version: str) -> Any:
    from referencing import Registry, Resource  # heavy: loaded with the schemas, on first use

    definitions = _utils().schema_contents(f"kubernetes-json-schema/v{version}-local-strict/_definitions.json", version)
    return Resource.from_contents(definitions) @ Registry()


@functools.cache
def _validator(version: str, kind: str, api_version: str) -> Any:
    """A compiled validator for kind/apiVersion, or None when the schemas do not know the kind."""
    file_api = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)
    try:
        schema = _utils().schema_contents(
            f"kubernetes-json-schema/v{version}-local-strict/{kind.lower()}-{file_api}.json", version
        )
    except FileNotFoundError:
        return None
    import jsonschema  # heavy: loaded with the schemas, on first use
    from referencing import Resource

    registry = Resource.from_contents(schema) @ _registry(version)
    return jsonschema.validators.Draft202012Validator(schema, registry=registry)


def first_error(validator: Any, obj: K8sObject) -> str | None:
    """The most relevant schema error of `obj` as "path: message", or None when it validates."""
    import jsonschema  # heavy: as above

    error = jsonschema.exceptions.best_match(validator.iter_errors(dict(obj.body)))
    if error is None:
        return None
    path = ".".join(str(p) for p in error.absolute_path) or "(object)"
    return f"{path}: {error.message}"


def schema_findings(objects: Iterable[K8sObject], kube_version: str = DEFAULT_KUBE_VERSION) -> list[Finding]:
    findings = []
    unknown: dict[tuple[str, str], list[K8sObject]] = {}
    version = schema_version(kube_version)
    for obj in objects:
        validator = _validator(version, obj.kind, obj.api_version)
        if validator is None:
            unknown.setdefault((obj.api_version, obj.kind), []).append(obj)
            continue
        error = first_error(validator, obj)
        if error:
            findings.append(finding("schema.invalid", obj.ref, f"{error} (Kubernetes {kube_version} schema)"))
    for (api_version, kind), objs in sorted(unknown.items()):
        message = f"{len(objs)} {kind} object(s) of {api_version} not validated: no schema for this kind"
        findings.append(finding("schema.unknown-kind", objs[0].ref, message))
    return findings
