"""Retrospective soak: read a window of the cluster's Prometheus history with range queries and judge it.

The records go to reports/soak/<run-id>/samples.jsonl like an active soak's, so the report, the charts and a
later look at the file work the same way. Nothing is interpolated: a step the TSDB has no data for is a gap.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable

from dbc_validate.analysis.retrospective_soak import QUERIES, history_records, query_step
from dbc_validate.analysis.soak_summary import summarize
from dbc_validate.durations import format_duration
from dbc_validate.errors import LabError
from dbc_validate.probes.soak.plan import SoakPlan, sample_interval
from dbc_validate.probes.soak.prometheus_history import read_history
from dbc_validate.probes.soak.runner import SoakResult
from dbc_validate.probes.soak.store import SoakStore


def run_retrospective_soak(
    plan: SoakPlan, progress: Callable[[str], None], clock: Callable[[], float] = time.time
) -> SoakResult:
    """Judge the last `plan.duration_s` (default the Gate 1 covered time) of `plan.prometheus_url`'s history."""
    if not plan.prometheus_url:
        raise LabError("a retrospective soak needs --soak-prometheus")
    window_s = plan.duration_s or plan.required_s
    now = clock()
    step = query_step(window_s, sample_interval(plan, window_s))
    # Steps on whole multiples: the same window read twice gives the same samples.
    wanted = plan.window_end if plan.window_end is not None else now
    end = wanted - wanted % step
    start = end - window_s
    progress(
        f"soak (retrospective): reading {format_duration(window_s)} of history from {plan.prometheus_url} "
        f"at a {format_duration(step)} step ({len(QUERIES)} range queries)"
    )
    history = read_history(plan.prometheus_url, start, end, step)
    subject = f"Prometheus history at {plan.prometheus_url}, {format_duration(window_s)} up to {_iso(end)}"
    records, findings = history_records(history, subject, window_s)
    store = SoakStore.create(plan.root, now)
    # Written once (the history is already durable in the TSDB): one fsync, not one per record.
    with open(store.path, "w", encoding="utf-8") as handle:
        handle.writelines(json.dumps(record, separators=(",", ":")) + "\n" for record in records)
        handle.flush()
        os.fsync(handle.fileno())
    summary, series = summarize(store.run_id, records)
    for line in findings.notes():
        progress(f"soak (retrospective): {line}")
    return SoakResult(summary, series, store.path, plan, False, 0.0, findings)


def _iso(t: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))
