"""Assemble gate1.json from the catalog, the test results and their evidence (pure; secrets redacted)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from dbc_validate.criteria import Criterion
from dbc_validate.evidence import TestEvidence
from dbc_validate.redact import redact_tree
from dbc_validate.report.next_steps import next_steps, why
from dbc_validate.report.verdict import (
    MEASURED,
    CriterionResult,
    TestResult,
    judge_criterion,
    missing_for_go,
    overall_verdict,
)
from dbc_validate.scope import Scope

# gate1.json's layout version, checked by `dbc-validate report` against dbc_validate/data/gate1-report.schema.json.
REPORT_SCHEMA_VERSION = 1
REPORT_SCHEMA = "gate1-report.schema.json"

TOP_LEVEL_KEYS = (
    "verdict",
    "target",
    "started",
    "finished",
    "harness_version",
    "manifests",
    "criteria",
    "measurements",
)


@dataclass(frozen=True)
class RunInfo:
    target_name: str
    target_scope: str
    started: str
    finished: str
    harness_version: str
    versions: Mapping[str, str] = field(default_factory=dict)
    manifests_path: str | None = None
    manifests_git_sha: str | None = None
    manifests_dirty: bool | None = None
    notes: Sequence[str] = ()  # run-level remarks (target choice, interruption)
    partial: Mapping[str, int] | None = None  # {"selected": N, "of": M} when -k/-m deselected criteria


def _measured_for(
    criterion_id: str, tests: Sequence[TestResult], evidence: Mapping[str, TestEvidence], configured: bool = False
) -> dict[str, Any]:
    """What the criterion's tests that ran measured (or, with configured=True, the settings they were judged by)."""
    measured: dict[str, Any] = {}
    for test in tests:
        if test.outcome not in MEASURED or criterion_id not in test.criteria:
            continue
        for m in evidence.get(test.nodeid, TestEvidence()).measurements:
            if m.criterion == criterion_id and m.configured == configured:
                measured[m.key] = m.value
    return measured


def _criterion_detail(
    criterion_id: str, tests: Sequence[TestResult], evidence: Mapping[str, TestEvidence]
) -> dict[str, Any]:
    figures, series, notes = [], [], []
    for test in tests:
        if criterion_id not in test.criteria:
            continue
        ev = evidence.get(test.nodeid, TestEvidence())
        figures += [
            {
                "key": m.key,
                "value": m.value,
                "unit": m.unit,
                "test": test.nodeid,
                "label": m.label,
                "configured": m.configured,
            }
            for m in ev.measurements
            if m.criterion == criterion_id
        ]
        series += [{**s.as_json(), "test": test.nodeid} for s in ev.series if s.criterion == criterion_id]
        notes += [{"test": test.nodeid, "text": n} for n in ev.notes]
        notes += [
            {"test": test.nodeid, "text": f"threshold {'met' if t.met else 'NOT met'}: {t.detail}"}
            for t in ev.thresholds
            if t.criterion == criterion_id
        ]
    return {"figures": figures, "series": series, "notes": notes}


def _scope(name: str) -> Scope | None:
    return Scope(name) if name in {s.value for s in Scope} else None


def criterion_json(result: CriterionResult, configured: Mapping[str, Any] | None = None) -> dict[str, Any]:
    c = result.criterion
    return {
        "id": c.id,
        "area": c.area,
        "title": c.title,
        "status": result.status.value,
        "scope": result.scope.value if result.scope else None,
        "meets_gate": result.meets_gate,
        "short_of": list(result.short_of),
        "threshold": c.threshold.describe() if c.threshold else None,
        "measured": dict(result.measured),
        "configured": dict(configured or {}),
        "tests": list(result.tests),
        "reason": result.reason,
    }


def build_report(
    catalog: Sequence[Criterion], tests: Sequence[TestResult], evidence: Mapping[str, TestEvidence], run: RunInfo
) -> dict[str, Any]:
    results = [judge_criterion(c, tests, _measured_for(c.id, tests, evidence)) for c in catalog]
    verdict = overall_verdict(results)
    report = {
        "schema_version": REPORT_SCHEMA_VERSION,
        "verdict": verdict.value,
        "target": {"name": run.target_name, "scope": run.target_scope, "versions": dict(run.versions)},
        "started": run.started,
        "finished": run.finished,
        "harness_version": run.harness_version,
        "partial": dict(run.partial) if run.partial else None,
        "manifests": {"path": run.manifests_path, "git_sha": run.manifests_git_sha, "dirty": run.manifests_dirty},
        "criteria": [
            criterion_json(r, _measured_for(r.criterion.id, tests, evidence, configured=True)) for r in results
        ],
        "measurements": {
            "criteria": {c.id: _criterion_detail(c.id, tests, evidence) for c in catalog},
            "tests": {
                t.nodeid: {
                    "outcome": t.outcome.value,
                    "scope": t.scope.value if t.scope else None,
                    "criteria": list(t.criteria),
                    "message": t.message,
                    "duration_s": round(t.duration_s, 3),
                }
                for t in tests
            },
            "missing_for_go": missing_for_go(results),
            "why": why(verdict, results),
            "next_steps": [step.as_json() for step in next_steps(results, tests, _scope(run.target_scope))],
            "notes": list(run.notes),
        },
    }
    return redact_tree(report)
