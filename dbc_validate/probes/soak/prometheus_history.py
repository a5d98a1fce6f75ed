"""The cluster's Prometheus history over a window: the range queries a retrospective soak judges, and a gap in an
active run's own samples read the same way on resume."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request

from dbc_validate.analysis.retrospective_soak import (
    GAP_MIN_INTERVAL_S,
    QUERIES,
    History,
    Series,
    gap_metrics,
    gap_window,
    query_step,
)
from dbc_validate.analysis.soak_summary import GapMetrics
from dbc_validate.errors import LabError

TIMEOUT_S = 60.0


def query_range(url: str, query: str, start: float, end: float, step: float) -> Series:
    """One range query; {label set: {time: value}}. LabError with Prometheus's own message when it refuses."""
    params = urllib.parse.urlencode({"query": query, "start": f"{start:.3f}", "end": f"{end:.3f}", "step": step})
    try:
        with urllib.request.urlopen(f"{url}/api/v1/query_range?{params}", timeout=TIMEOUT_S) as response:
            body = json.loads(response.read())
    except urllib.error.HTTPError as exc:
        detail = exc.read().decode("utf-8", "replace")[:300]
        raise LabError(f"Prometheus at {url} refused {query!r}: HTTP {exc.code} {detail}") from None
    except (OSError, ValueError) as exc:
        raise LabError(f"Prometheus at {url} did not answer a range query: {exc}") from None
    if body.get("status") != "success":
        raise LabError(f"Prometheus at {url} refused {query!r}: {body.get('error')}")
    series: Series = {}
    for item in body["data"]["result"]:
        labels = tuple(sorted((k, v) for k, v in item["metric"].items() if k != "__name__"))
        series[labels] = {round(float(t), 3): float(v) for t, v in item["values"] if v not in ("NaN", "+Inf", "-Inf")}
    return series


def read_history(url: str, start: float, end: float, step: float) -> History:
    results = {name: query_range(url, q.format(step=int(step)), start + step, end, step) for name, q in QUERIES.items()}
    return History(start, end, step, results)


def read_gap(url: str, start: float, end: float) -> GapMetrics:
    """The cluster's metrics between a run's last sample (`start`) and its resume (`end`), on whole query steps
    inside the gap; a gap shorter than one step, or a Prometheus that does not answer, is said, never guessed."""
    window = gap_window(start, end)
    if window is None:
        step = query_step(end - start, GAP_MIN_INTERVAL_S)
        return GapMetrics(url, 0.0, 0, step, error=f"the gap holds no whole query step of {step:g} s")
    first, last, step = window
    try:
        history = read_history(url, first, last, step)
    except LabError as exc:
        return GapMetrics(url, 0.0, 0, step, error=str(exc))
    return gap_metrics(history, url)
