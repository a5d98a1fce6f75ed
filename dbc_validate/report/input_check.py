"""Check of a gate1.json given to `dbc-validate report`: its schema version, the shape the page needs, then its
own JSON schema (dbc_validate/data/gate1-report.schema.json); the first problem as one line, or None."""

from __future__ import annotations

from typing import Any

from dbc_validate.report.build import REPORT_SCHEMA, REPORT_SCHEMA_VERSION, TOP_LEVEL_KEYS
from dbc_validate.resources import read_text

# Field -> type the HTML template relies on; anything else would surface as a traceback while rendering.
CRITERION_FIELDS: dict[str, type | tuple[type, ...]] = {"id": str, "area": str, "status": str, "title": str}
MAPPING_FIELDS = ("target", "manifests", "measurements")


def _kind(value: Any) -> str:
    return (
        "null" if value is None else {dict: "an object", list: "a list", str: "a string"}.get(type(value), "a number")
    )


def report_problem(report: Any) -> str | None:
    if not isinstance(report, dict):
        return f"is {_kind(report)}, not a JSON object"
    version = report.get("schema_version", REPORT_SCHEMA_VERSION)  # absent: written before versions were kept
    if version != REPORT_SCHEMA_VERSION:
        return f"has schema_version {version!r}; this harness reads version {REPORT_SCHEMA_VERSION}"
    return shape_problem(report) or schema_problem(report)


def shape_problem(report: dict[str, Any]) -> str | None:
    missing = [key for key in TOP_LEVEL_KEYS if key not in report]
    if missing:
        return f"lacks {', '.join(missing)}"
    if not isinstance(report["verdict"], str):
        return f"verdict is {_kind(report['verdict'])}, not a string"
    for key in MAPPING_FIELDS:
        if not isinstance(report[key], dict):
            return f"{key} is {_kind(report[key])}, not an object"
    criteria = report["criteria"]
    if not isinstance(criteria, list):
        return f"criteria is {_kind(criteria)}, not a list"
    for index, item in enumerate(criteria):
        if not isinstance(item, dict):
            return f"criteria[{index}] is {_kind(item)}, not an object"
        for field, wanted in CRITERION_FIELDS.items():
            if field not in item:
                return f"criteria[{index}] has no {field}"
            if not isinstance(item[field], wanted):
                return f"criteria[{index}].{field} is {_kind(item[field])}, not a string"
    return None


_TYPE_NAMES = {"object": "an object", "array": "a list", "string": "a string", "number": "a number"}


def _where(path: Any) -> str:
    where = ""
    for part in path:
        where += f"[{part}]" if isinstance(part, int) else (f".{part}" if where else str(part))
    return where or "the report"


def schema_problem(report: dict[str, Any]) -> str | None:
    """The most relevant violation of gate1.json's own schema, in one line."""
    import json

    # jsonschema is imported here: it is only needed by `dbc-validate report`, not by every pytest session.
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import best_match

    schema = json.loads(read_text(REPORT_SCHEMA))
    error = best_match(Draft202012Validator(schema).iter_errors(report))
    if error is None:
        return None
    where = _where(error.absolute_path)
    if error.validator == "type":
        wanted = error.validator_value if isinstance(error.validator_value, list) else [error.validator_value]
        names = " or ".join(_TYPE_NAMES.get(w, w) for w in wanted)
        return f"{where} is {_kind(error.instance)}, not {names}"
    return f"{where}: {error.message[:200]}"
