"""The report's at-a-glance matrix: every criterion against the scopes (static, local, cluster) its tests
reached, from gate1.json alone (pure)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

SCOPES = ("static", "local", "cluster")
# Worst first: one failed test marks the cell failed whatever else ran there.
_CELL_ORDER = ("failed", "error", "passed", "skipped", "not_run")
SHORT_STATUS = {
    "PASS": "PASS",
    "PASSED_BELOW_GATE": "BELOW GATE",
    "FAIL": "FAIL",
    "ERROR": "ERROR",
    "NOT_RUN": "NOT RUN",
    "NOT_COVERED": "NO CHECK",
}


@dataclass(frozen=True)
class MatrixRow:
    id: str
    name: str  # the id's second half, readable: "control plane quorum"
    title: str
    status: str
    cells: tuple[str, ...]  # per scope in SCOPES: "passed" | "failed" | "error" | "skipped" | "not_run" | ""


def cell(outcomes: Sequence[str]) -> str:
    """The state a scope's cell shows for the outcomes of the criterion's tests there ("" when none)."""
    return next((o for o in _CELL_ORDER if o in outcomes), "")


def matrix_rows(criteria: Sequence[Mapping[str, Any]], tests: Mapping[str, Mapping[str, Any]]) -> list[MatrixRow]:
    """One row per criterion. A test without a scope asked for a capability the target does not offer: it
    could only have run on a cluster, so it shows, not run, in the cluster column."""
    rows = []
    for c in criteria:
        by_scope: dict[str, list[str]] = {s: [] for s in SCOPES}
        for nodeid in c.get("tests") or []:
            t = tests.get(nodeid) or {}
            by_scope[t.get("scope") or "cluster"].append(str(t.get("outcome") or "not_run"))
        name = str(c["id"]).split(".", 1)[-1].replace("_", " ")
        rows.append(MatrixRow(c["id"], name, c.get("title", ""), c["status"], tuple(cell(by_scope[s]) for s in SCOPES)))
    return rows
