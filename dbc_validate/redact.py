"""Scrub secrets (passwords in DSNs and URLs, tokens, key=value secrets) from text bound for logs and reports."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

MASK = "***"

_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # scheme://user:password@host
    (re.compile(r"(?P<head>[a-zA-Z][a-zA-Z0-9+.-]*://[^:/?#@\s]*:)[^@/\s]+(?=@)"), rf"\g<head>{MASK}"),
    # password=..., passwd: ..., token=..., secret=... (libpq keyword DSNs, env dumps, YAML)
    (
        re.compile(
            r"(?P<head>\b(?:password|passwd|pwd|token|secret|client-key-data|client-certificate-data)"
            r"[\"']?\s*[=:]\s*[\"']?)(?P<val>[^\s\"',;&]+)",
            re.IGNORECASE,
        ),
        rf"\g<head>{MASK}",
    ),
    # Authorization: Bearer xyz
    (re.compile(r"(?P<head>\bBearer\s+)[A-Za-z0-9._~+/=-]+", re.IGNORECASE), rf"\g<head>{MASK}"),
)


def redact(text: str) -> str:
    """`text` with every recognisable secret replaced by ***."""
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def redact_tree(value: Any) -> Any:
    """A copy of a JSON-like tree with every string (keys included) passed through `redact`."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, Mapping):
        return {redact_tree(k): redact_tree(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact_tree(v) for v in value]
    return value
