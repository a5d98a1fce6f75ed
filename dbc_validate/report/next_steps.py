"""What the report's top says: one sentence why the verdict is what it is, and at most six next steps,
grouped by the action that unblocks the most criteria (pure)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from dbc_validate.report.figures import hours_and_minutes
from dbc_validate.report.verdict import RAN, CriterionResult, Outcome, Status, TestResult, Verdict
from dbc_validate.scope import Scope, reaches

MAX_STEPS = 6
SOAK = "stability.soak"
CLUSTER_COMMAND = "pytest suites/gate1 --target kind"


@dataclass(frozen=True)
class NextStep:
    """One action: what it unblocks (a sentence), the command to run if there is one, the criteria it covers."""

    text: str
    command: str | None
    criteria: tuple[str, ...]
    first: bool = False  # failures and errors come before any count

    def as_json(self) -> dict[str, object]:
        return {"text": self.text, "command": self.command, "criteria": list(self.criteria)}


def _plural(n: int, word: str) -> str:
    """3 criteria, 1 failing criterion."""
    return f"{n} {word}" if n == 1 else f"{n} {word.removesuffix('criterion')}criteria"


def _verb(n: int, one: str, many: str) -> str:
    return one if n == 1 else many


def _is_threshold_gap(short: str) -> bool:
    return not short.endswith(" only") and "not run" not in short


def _ids(results: Sequence[CriterionResult]) -> tuple[str, ...]:
    return tuple(r.criterion.id for r in results)


def _names(results: Sequence[CriterionResult], limit: int = 4) -> str:
    ids = [r.criterion.id for r in results]
    shown = ", ".join(ids[:limit])
    return shown + (f" and {len(ids) - limit} more" if len(ids) > limit else "")


def why(verdict: Verdict, results: Sequence[CriterionResult]) -> str:
    """One sentence saying why the verdict is what it is."""
    total = len(results)
    if verdict is Verdict.GO:
        return f"All {total} criteria passed at the scope Gate 1 requires, with their thresholds met."
    if verdict is Verdict.NO_GO:
        failed = [r for r in results if r.status is Status.FAIL]
        errored = [r for r in results if r.status is Status.ERROR]
        parts = [f"{_plural(len(failed), 'criterion')} failed"] if failed else []
        parts += [f"{_plural(len(errored), 'criterion')} errored"] if errored else []
        return f"{' and '.join(parts)} ({_names(failed + errored)}): a failure outweighs everything else."
    short = [r for r in results if not r.meets_gate]
    by_status: dict[Status, int] = {}
    for r in short:
        by_status[r.status] = by_status.get(r.status, 0) + 1
    words = {
        Status.PASSED_BELOW_GATE: "passed below the gate",
        Status.NOT_RUN: "did not run",
        Status.NOT_COVERED: "have no check yet",
    }
    detail = ", ".join(f"{n} {words[s]}" for s, n in by_status.items() if s in words)
    return f"Nothing failed, but {len(short)} of {total} criteria are not yet proven for Gate 1 ({detail})."


def _tests_of(result: CriterionResult, tests: Sequence[TestResult]) -> list[TestResult]:
    return [t for t in tests if result.criterion.id in t.criteria]


def _measured_hours(result: CriterionResult) -> float | None:
    value = result.measured.get("covered_h")
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _soak_step(result: CriterionResult) -> NextStep | None:
    threshold = result.criterion.threshold
    covered = _measured_hours(result)
    if threshold is None or covered is None or not isinstance(threshold.value, float) or covered >= threshold.value:
        return None
    required = threshold.value
    return NextStep(
        f"{result.criterion.id} needs {hours_and_minutes(required - covered)} more soak time "
        f"(covered {hours_and_minutes(covered)} of {required:g} h)",
        f"--soak-duration {required:g}h",
        (result.criterion.id,),
    )


def _grouped(
    results: Sequence[CriterionResult], pick: Callable[[CriterionResult], bool], make: Callable[[list], NextStep]
) -> list[NextStep]:
    chosen = [r for r in results if pick(r)]
    return [make(chosen)] if chosen else []


def next_steps(
    results: Sequence[CriterionResult], tests: Sequence[TestResult], target_scope: Scope | None
) -> list[NextStep]:
    """At most MAX_STEPS actions towards GO: failures and errors first, then by how many criteria each unblocks."""
    short = [r for r in results if not r.meets_gate]
    on_cluster = reaches(target_scope, Scope.CLUSTER)

    def deselected(r: CriterionResult) -> bool:
        unrun = [t for t in _tests_of(r, tests) if t.outcome not in RAN]
        return bool(unrun) and all(t.deselected for t in unrun)

    def needs_cluster(r: CriterionResult) -> bool:
        return (
            not on_cluster
            and r.status in (Status.PASSED_BELOW_GATE, Status.NOT_RUN)
            and not reaches(r.scope, r.criterion.required_scope)
            and not deselected(r)
        )

    def nothing_to_check(r: CriterionResult) -> bool:
        return r.status is Status.NOT_RUN and "nothing to check" in r.reason

    def skipped_on_target(r: CriterionResult) -> bool:
        return (
            on_cluster
            and r.status in (Status.NOT_RUN, Status.PASSED_BELOW_GATE)
            and not deselected(r)
            and not nothing_to_check(r)
            and any(t.outcome is Outcome.SKIPPED for t in _tests_of(r, tests))
        )

    steps: list[NextStep] = []
    steps += _grouped(
        short,
        lambda r: r.status is Status.FAIL,
        lambda rs: NextStep(
            f"Fix {_plural(len(rs), 'failing criterion')}: {_names(rs)} (their reasons are below)",
            None,
            _ids(rs),
            first=True,
        ),
    )
    steps += _grouped(
        short,
        lambda r: r.status is Status.ERROR,
        lambda rs: NextStep(
            f"{_plural(len(rs), 'criterion')} errored, a provider or probe broke: {_names(rs)}; "
            "fix the cause in the reason and run again",
            None,
            _ids(rs),
            first=True,
        ),
    )
    steps += _grouped(
        short,
        needs_cluster,
        lambda rs: NextStep(
            f"{_plural(len(rs), 'criterion')} {_verb(len(rs), 'needs', 'need')} a live cluster "
            "(or --target k3d / kubeconfig)",
            CLUSTER_COMMAND,
            _ids(rs),
        ),
    )
    steps += _grouped(
        short,
        deselected,
        lambda rs: NextStep(
            f"{_plural(len(rs), 'criterion')} {_verb(len(rs), 'was', 'were')} not selected (-k/-m): "
            "run the whole suite",
            "pytest suites/gate1",
            _ids(rs),
        ),
    )
    for r in short:
        soak = _soak_step(r) if r.criterion.id == SOAK and r.status is Status.PASSED_BELOW_GATE else None
        if soak is not None:
            steps.append(soak)
    steps += _grouped(
        short,
        lambda r: (
            r.status is Status.PASSED_BELOW_GATE
            and r.criterion.id != SOAK
            and any(_is_threshold_gap(s) for s in r.short_of)
        ),
        lambda rs: NextStep(
            f"{_plural(len(rs), 'criterion')} passed short of a threshold: {_names(rs)}", None, _ids(rs)
        ),
    )
    steps += _grouped(
        short,
        nothing_to_check,
        lambda rs: NextStep(
            f"{_plural(len(rs), 'criterion')} had nothing to check in this manifest set: {_names(rs)}", None, _ids(rs)
        ),
    )
    steps += _grouped(
        short,
        skipped_on_target,
        lambda rs: NextStep(f"{_plural(len(rs), 'criterion')} skipped on this target: {_names(rs)}", None, _ids(rs)),
    )
    steps += _grouped(
        short,
        lambda r: r.status is Status.NOT_COVERED,
        lambda rs: NextStep(
            f"{_plural(len(rs), 'criterion')} {_verb(len(rs), 'has', 'have')} no check yet: {_names(rs)}",
            "@pytest.mark.gate1(...)",
            _ids(rs),
        ),
    )
    covered = {c for step in steps for c in step.criteria}
    steps += _grouped(
        short,
        lambda r: r.criterion.id not in covered,
        lambda rs: NextStep(
            f"{_plural(len(rs), 'criterion')}: see {_verb(len(rs), 'its', 'their')} reason below: {_names(rs)}",
            None,
            _ids(rs),
        ),
    )
    steps.sort(key=lambda s: (not s.first, -len(s.criteria)))
    if len(steps) > MAX_STEPS:
        rest = steps[MAX_STEPS - 1 :]
        ids = tuple(dict.fromkeys(c for s in rest for c in s.criteria))
        steps = [*steps[: MAX_STEPS - 1], NextStep(f"{_plural(len(ids), 'more criterion')}: see the matrix", None, ids)]
    return steps
