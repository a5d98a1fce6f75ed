"""One Gate 1 run: settings, the chosen target, what each test asked for and how it ended, its evidence."""

from __future__ import annotations

import json
import platform
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest

from dbc_validate import __version__
from dbc_validate.capabilities import Capability
from dbc_validate.durations import format_duration
from dbc_validate.evidence import TestEvidence, evidence_from_wire, evidence_to_wire
from dbc_validate.labs.soak_subject import LOCAL_DEFAULT_DURATION_S as LOCAL_SOAK_S
from dbc_validate.options import FAILOVER_TRIAL_S
from dbc_validate.progress import ProgressSink
from dbc_validate.provenance import git_state
from dbc_validate.report.build import RunInfo, build_report
from dbc_validate.report.verdict import Outcome, TestResult
from dbc_validate.scope import Scope, strongest
from dbc_validate.settings import Settings
from dbc_validate.targets.base import Target
from dbc_validate.targets.registry import make_target
from dbc_validate.targets.selection import TargetChoice, resolve_target

DEFAULT_TRIALS = 3  # the targets' default --failover-trials
CLUSTER_SOAK_S = 48 * 3600.0  # the cluster soak's default duration (the local one: LOCAL_SOAK_S)
SOAK_CRITERIA = frozenset({"stability.soak", "stability.no_crashloops", "stability.resource_headroom"})


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass
class TestRecord:
    """What the plugin learns about one Gate 1 test across collection and its three phases."""

    __test__ = False  # not a pytest test class

    nodeid: str
    criteria: tuple[str, ...]
    capabilities: tuple[Capability, ...]
    outcome: Outcome = Outcome.NOT_RUN
    message: str = "not run"
    duration_s: float = 0.0
    deselected: bool = False  # by -k/-m: the run is partial

    def to_wire(self) -> list[Any]:
        caps = [c.value for c in self.capabilities]
        outcome = self.outcome.value
        return [self.nodeid, list(self.criteria), caps, outcome, self.message, self.duration_s, self.deselected]

    @classmethod
    def from_wire(cls, data: Sequence[Any]) -> TestRecord:
        nodeid, criteria, caps, outcome, message, duration_s, deselected = data
        capabilities = tuple(Capability(c) for c in caps)
        return cls(nodeid, tuple(criteria), capabilities, Outcome(outcome), message, duration_s, deselected)


@dataclass
class Gate1Session:
    settings: Settings
    progress: ProgressSink
    started: str = field(default_factory=utc_now)
    records: dict[str, TestRecord] = field(default_factory=dict)
    evidence: dict[str, TestEvidence] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    aborted_by_input: str | None = None
    _choice: TargetChoice | None = None
    _target: Target | None = None
    _started_target: bool = False

    @property
    def choice(self) -> TargetChoice:
        if self._choice is None:
            self._choice = resolve_target(self.settings.target)
        return self._choice

    @property
    def target(self) -> Target:
        if self._target is None:
            self._target = make_target(self.choice.name, self.settings, self.progress)
        return self._target

    def test_scope(self, capabilities: tuple[Capability, ...]) -> Scope | None:
        offered = self.target.capability_scopes()
        return strongest(offered.get(c) for c in capabilities)

    def provide(self, capability: Capability) -> Any:
        if capability in self.target.capability_scopes():
            self._start_target()
        return self.target.provide(capability)

    def start_in_background(self) -> list[Capability]:
        """Start the target's slow labs the selected tests need, in the order the tests first ask for them.

        The manifest set is loaded first, here: the providers share it, and a bad set is left to the fixtures
        to report (nothing starts). A target without background starts is left untouched (no cluster created).
        """
        target = self.target
        if not target.background_capabilities:
            return []
        needed = list(dict.fromkeys(c for r in self.records.values() if not r.deselected for c in r.capabilities))
        if not any(c in target.background_capabilities for c in needed):
            return []
        try:
            target.manifest_set()
        except Exception:  # the fixtures raise it again, each as today
            return []
        self._start_target()
        return target.start_in_background(needed)

    def _start_target(self) -> None:
        if not self._started_target:
            self._started_target = True
            self.target.start()

    def stop(self) -> None:
        if self._target is not None:
            self._target.stop()

    def worker_output(self) -> str:
        """What a pytest-xdist worker sends its controller: records, evidence, notes, versions (as JSON text).

        JSON with default=str, as gate1.json itself is written, so merged figures equal those of a run without -n.
        """
        target_versions = self._target.versions if self._target is not None else {}
        return json.dumps(
            {
                "records": [r.to_wire() for r in self.records.values()],
                "evidence": {nodeid: evidence_to_wire(e) for nodeid, e in self.evidence.items()},
                "notes": self.notes,
                "versions": target_versions,
                "aborted_by_input": self.aborted_by_input,
            },
            default=str,
        )

    def merge_worker_outputs(self, outputs: Sequence[str]) -> None:
        """Fold the workers' outputs into this (controller's) session, as if one process had run every test.

        Each worker collects every test and runs some: a test's record is the one of the worker that ran it,
        in collection order; notes are kept once each, in the order first seen.
        """
        for text in outputs:
            data = json.loads(text)
            for wire in data["records"]:
                record = TestRecord.from_wire(wire)
                known = self.records.get(record.nodeid)
                if known is None or (known.outcome is Outcome.NOT_RUN and record.outcome is not Outcome.NOT_RUN):
                    self.records[record.nodeid] = record
            for nodeid, evidence in data["evidence"].items():
                self.evidence[nodeid] = evidence_from_wire(evidence)
            self.notes.extend(n for n in data["notes"] if n not in self.notes)
            self.target.versions.update(data["versions"])
            if data["aborted_by_input"] and not self.aborted_by_input:
                self.aborted_by_input = data["aborted_by_input"]

    def results(self) -> list[TestResult]:
        return [
            TestResult(
                nodeid=r.nodeid,
                criteria=r.criteria,
                outcome=r.outcome,
                scope=self.test_scope(r.capabilities),
                message=r.message,
                duration_s=r.duration_s,
                deselected=r.deselected,
                thresholds=tuple(self.evidence[r.nodeid].thresholds) if r.nodeid in self.evidence else (),
            )
            for r in self.records.values()
        ]

    def partial(self) -> dict[str, int] | None:
        """How many catalog criteria the run selected, when -k/-m deselected some tests (None: a full run)."""
        if not any(r.deselected for r in self.records.values()):
            return None
        selected = {c for r in self.records.values() if not r.deselected for c in r.criteria}
        catalog = [c.id for c in self.settings.catalog]
        return {"selected": sum(1 for c in catalog if c in selected), "of": len(catalog)}

    def duration_estimate(self) -> tuple[float, str]:
        """Roughly how long the selected long-running suites take (seconds, and what it is made of)."""
        selected = {c for r in self.records.values() if not r.deselected for c in r.criteria}
        total, parts = 0.0, []
        if "databases.failover" in selected:
            trials = self.settings.failover_trials or DEFAULT_TRIALS
            total += (trials + 1) * FAILOVER_TRIAL_S  # the trials and one switchover
            parts.append(f"failover: {trials} trial(s) and a switchover at ~{FAILOVER_TRIAL_S:g} s each")
        if selected & SOAK_CRITERIA:
            soak = self.settings.soak_duration_s or (LOCAL_SOAK_S if self.choice.name == "local" else CLUSTER_SOAK_S)
            total += soak
            resumed = " (less when resuming)" if self.settings.soak_resume else ""
            parts.append(f"soak: {format_duration(soak)}{resumed}")
        return total, "; ".join(parts)

    def report(self) -> dict[str, Any]:
        target = self.target
        manifests = target.manifests_path
        git = git_state(manifests)
        versions = {"harness": __version__, "python": platform.python_version()}
        versions["pytest"] = pytest.__version__
        versions.update(target.versions)
        run = RunInfo(
            target_name=target.name,
            target_scope=target.scope.value,
            started=self.started,
            finished=utc_now(),
            harness_version=__version__,
            versions=versions,
            manifests_path=str(manifests),
            manifests_git_sha=git.sha,
            manifests_dirty=git.dirty,
            notes=[f"target {target.name}: {self.choice.why}", *self.notes],
            partial=self.partial(),
        )
        return build_report(self.settings.catalog, self.results(), self.evidence, run)
