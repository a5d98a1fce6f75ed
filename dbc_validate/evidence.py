"""What tests record beside their outcome: measurements with units, chart series, threshold verdicts."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

Number = int | float
Value = Number | str | bool | None | list[Any] | dict[str, Any]


@dataclass(frozen=True)
class Measurement:
    key: str
    value: Value
    unit: str | None
    criterion: str
    label: str | None = None  # what the figure is, in words ("write gap, p95 of 3 trials"); None: from the key
    configured: bool = False  # a setting the measurement was judged against, not something measured


@dataclass(frozen=True)
class Series:
    """Points for a chart: x and y columns of equal length (x usually seconds since a start)."""

    name: str
    x: tuple[float, ...]
    y: tuple[float | None, ...]
    criterion: str
    x_label: str = "s"
    y_label: str = ""
    kind: str = "line"  # "line" | "step" | "events" (y is ignored, labels mark moments)
    labels: tuple[str, ...] = ()
    group: str = ""  # series with the same group share one chart

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "x": list(self.x),
            "y": list(self.y),
            "x_label": self.x_label,
            "y_label": self.y_label,
            "kind": self.kind,
            "labels": list(self.labels),
            "group": self.group,
        }


@dataclass(frozen=True)
class ThresholdVerdict:
    criterion: str
    met: bool
    detail: str


@dataclass
class TestEvidence:
    """Everything one test recorded."""

    __test__ = False  # not a pytest test class

    measurements: list[Measurement] = field(default_factory=list)
    series: list[Series] = field(default_factory=list)
    thresholds: list[ThresholdVerdict] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    interrupted: str = ""  # set when the test was interrupted: what it finished before ("2 of 3 trials ...")
    failed_before_interrupt: str = ""  # what the evidence kept already fails ("trial 2: write gap 41 s > 30 s")


class EvidenceRecorder:
    """Handed to a test as the `gate1_evidence` fixture; ties records to the test's Gate 1 criteria."""

    def __init__(self, criteria: Sequence[str], sink: TestEvidence) -> None:
        self._criteria = tuple(criteria)
        self._sink = sink

    def _criterion(self, criterion: str | None) -> str:
        if criterion is not None:
            if criterion not in self._criteria:
                raise ValueError(f"this test is not marked gate1({criterion!r}); it carries {self._criteria}")
            return criterion
        if len(self._criteria) != 1:
            raise ValueError(
                f"the test carries {len(self._criteria)} criteria {self._criteria}: "
                "pass criterion= to say which one the record is for"
            )
        return self._criteria[0]

    def measure(
        self,
        key: str,
        value: Value,
        unit: str | None = None,
        *,
        criterion: str | None = None,
        label: str | None = None,
    ) -> None:
        """Record a figure this test measured; `label` says what it is when the key cannot ("peak over N samples")."""
        self._record(key, value, unit, criterion, label, configured=False)

    def configured(
        self,
        key: str,
        value: Value,
        unit: str | None = None,
        *,
        criterion: str | None = None,
        label: str | None = None,
    ) -> None:
        """Record a setting the measurements were judged against (a limit, the size of a fixed corpus): the report
        shows it apart from what was measured."""
        self._record(key, value, unit, criterion, label, configured=True)

    def _record(
        self, key: str, value: Value, unit: str | None, criterion: str | None, label: str | None, configured: bool
    ) -> None:
        if isinstance(value, float) and not math.isfinite(value):
            value = None  # JSON has no NaN/inf; an absent figure is shown as such
        self._sink.measurements.append(Measurement(key, value, unit, self._criterion(criterion), label, configured))

    def series(
        self,
        name: str,
        x: Sequence[float],
        y: Sequence[float | None],
        *,
        criterion: str | None = None,
        x_label: str = "s",
        y_label: str = "",
        kind: str = "line",
        labels: Sequence[str] = (),
        group: str = "",
    ) -> None:
        if len(x) != len(y):
            raise ValueError(f"series {name!r}: {len(x)} x values but {len(y)} y values")
        self._sink.series.append(
            Series(
                name,
                tuple(float(v) for v in x),
                tuple(y),
                self._criterion(criterion),
                x_label,
                y_label,
                kind,
                tuple(labels),
                group,
            )
        )

    def threshold(self, met: bool, detail: str, *, criterion: str | None = None) -> None:
        """Say whether the criterion's Gate 1 threshold was met by what this test measured."""
        self._sink.thresholds.append(ThresholdVerdict(self._criterion(criterion), bool(met), detail))

    def note(self, text: str) -> None:
        self._sink.notes.append(text)

    def interrupted(self, done: str, failed: str = "") -> None:
        """Keep what was recorded although the run is being interrupted: `done` says how far it got (e.g. "2 of 3
        trials before the interrupt"); the criterion is then judged short of the gate instead of not run, or FAIL
        when `failed` says what the finished part already failed (a measured failure stays one)."""
        self._sink.interrupted = done
        self._sink.failed_before_interrupt = failed


def evidence_to_wire(evidence: TestEvidence) -> dict[str, Any]:
    """A plain-data copy of a test's evidence, for sending it from a pytest-xdist worker to the controller."""
    return {
        "measurements": [[m.key, m.value, m.unit, m.criterion, m.label, m.configured] for m in evidence.measurements],
        "series": [{**s.as_json(), "criterion": s.criterion} for s in evidence.series],
        "thresholds": [[t.criterion, t.met, t.detail] for t in evidence.thresholds],
        "notes": list(evidence.notes),
        "interrupted": evidence.interrupted,
        "failed_before_interrupt": evidence.failed_before_interrupt,
    }


def evidence_from_wire(data: dict[str, Any]) -> TestEvidence:
    """The inverse of evidence_to_wire."""
    series = [
        Series(
            s["name"],
            tuple(s["x"]),
            tuple(s["y"]),
            s["criterion"],
            s["x_label"],
            s["y_label"],
            s["kind"],
            tuple(s["labels"]),
            s["group"],
        )
        for s in data["series"]
    ]
    return TestEvidence(
        measurements=[Measurement(*m) for m in data["measurements"]],
        series=series,
        thresholds=[ThresholdVerdict(*t) for t in data["thresholds"]],
        notes=list(data["notes"]),
        interrupted=data.get("interrupted", ""),
        failed_before_interrupt=data.get("failed_before_interrupt", ""),
    )
