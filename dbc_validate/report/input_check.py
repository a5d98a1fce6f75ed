"""Shape check of a gate1.json given to `dbc-validate report`: the first problem as one line, or None."""

from __future__ import annotations

from typing import Any

from dbc_validate.report.build import TOP_LEVEL_KEYS

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
