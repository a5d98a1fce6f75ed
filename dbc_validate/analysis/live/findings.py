"""The record every live decision returns for something wrong: which object, and what is wrong with it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Finding:
    subject: str  # "Pod/prod/wordpress-7d9f-abc (container wordpress)", "Node/kind-control-plane", ...
    problem: str

    def __str__(self) -> str:
        return f"{self.subject}: {self.problem}"


def describe(findings: Iterable[Finding], limit: int = 20) -> str:
    """One line per finding (at most `limit`, then a count of the rest), for assertion messages."""
    items = list(findings)
    lines = [str(f) for f in items[:limit]]
    if len(items) > limit:
        lines.append(f"... and {len(items) - limit} more")
    return "\n".join(lines)
