"""The `soak_run` capability: the soak's outcome, from a run done ahead (in a background start) or on demand.

The suite asks the handle for the result and handles an interrupt or bad input the same way either way.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from dbc_validate.capabilities import SoakSubject
from dbc_validate.probes.soak.plan import SoakPlan
from dbc_validate.probes.soak.retrospective import run_retrospective_soak
from dbc_validate.probes.soak.runner import SoakResult, run_soak


def run_planned_soak(
    plan: SoakPlan,
    subject: Callable[[], SoakSubject],
    progress: Callable[[str], None],
    sleep: Callable[[float], None] = time.sleep,
) -> SoakResult:
    """The soak `plan` asks for: Prometheus's history (retrospective) or load and samples now (active)."""
    if plan.mode == "retrospective":
        return run_retrospective_soak(plan, progress)
    return run_soak(subject(), plan, progress, sleep=sleep)


def stoppable_sleep(stopping: threading.Event) -> Callable[[float], None]:
    """A sleep that raises KeyboardInterrupt once `stopping` is set: how a run in a background thread hears of a
    Ctrl-C (only the main thread receives the signal) and stops its load and closes its samples file."""

    def sleep(seconds: float) -> None:
        if stopping.wait(max(0.0, seconds)):
            raise KeyboardInterrupt("the session is stopping")

    return sleep


@dataclass
class SoakRun:
    """One soak run and its outcome: `result()` runs it in the caller's thread unless `run_now` already did; a
    failed or interrupted run raises the same exception on every call."""

    run: Callable[[], SoakResult] = field(repr=False)
    overlap: str = ""  # what shared the machine with a run done ahead, for the report's notes
    _result: SoakResult | None = field(default=None, init=False, repr=False)
    _error: BaseException | None = field(default=None, init=False, repr=False)
    _done: bool = field(default=False, init=False, repr=False)

    def run_now(self) -> SoakRun:
        """Run it now and keep the outcome, an exception included, for `result()` (a background start)."""
        try:
            self._result = self.run()
        except BaseException as exc:  # raised again in the suite's thread, where it is reported
            self._error = exc
        self._done = True
        return self

    def result(self) -> SoakResult:
        if not self._done:
            self.run_now()  # on demand: in the caller's thread, so Ctrl-C arrives while it runs
        if self._error is not None:
            raise self._error
        assert self._result is not None
        if self.overlap:
            self._result.overlap = self.overlap
        return self._result
