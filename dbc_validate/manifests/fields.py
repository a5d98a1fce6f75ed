"""Reading fields of parsed YAML/JSON bodies that may be missing or of the wrong type (pure, no imports of ours)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def mapping(value: Any) -> Mapping[str, Any]:
    """`value` if it is a mapping, else an empty one: a malformed field reads as absent."""
    return value if isinstance(value, Mapping) else {}


def listing(value: Any) -> list[Any]:
    """`value` as a list if it is one, else an empty list."""
    return list(value) if isinstance(value, list) else []


def dig(value: Any, *keys: str) -> Any:
    """The value at `keys` inside nested mappings; None as soon as a step is missing or not a mapping."""
    for key in keys:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value
