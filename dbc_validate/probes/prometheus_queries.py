"""Reading a Prometheus (and its Alertmanager) over HTTP for the observability checks: targets, rules, alerts,
dashboard queries. Thin I/O around analysis/observability_checks.py."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Sequence
from typing import Any

from dbc_validate.analysis.monitoring import Dashboard
from dbc_validate.analysis.observability_checks import QueryAnswer, evaluation_times
from dbc_validate.errors import LabError


def get_json(base_url: str, path: str, timeout_s: float = 10.0) -> Any:
    """GET base_url+path as JSON; a 4xx with a JSON body (Prometheus's bad_data) is returned, not raised."""
    try:
        with urllib.request.urlopen(base_url + path, timeout=timeout_s) as response:
            return json.loads(response.read())
    except urllib.error.HTTPError as exc:
        body = exc.read()
        try:
            return json.loads(body)
        except ValueError:
            raise LabError(f"GET {base_url}{path}: HTTP {exc.code}") from None


def wait_rules_evaluated(base_url: str, intervals: int = 2, timeout_s: float = 30.0) -> dict[str, str]:
    """Until every rule group's lastEvaluation has moved on `intervals` times; returns the last times seen."""
    deadline = time.monotonic() + timeout_s
    first = evaluation_times(get_json(base_url, "/api/v1/rules"))
    if not first and not get_json(base_url, "/api/v1/rules").get("data", {}).get("groups"):
        return {}  # no rule group loaded: nothing to wait for
    seen: dict[str, set[str]] = {group: {at} for group, at in first.items()}
    while time.monotonic() < deadline:
        current = evaluation_times(get_json(base_url, "/api/v1/rules"))
        for group, at in current.items():
            seen.setdefault(group, set()).add(at)
        if current and all(len(times) > intervals for times in seen.values()):
            return current
        time.sleep(0.25)
    raise LabError(f"Prometheus did not evaluate every rule group {intervals} times within {timeout_s:.0f} s: {seen}")


def query_dashboards(base_url: str, dashboards: Sequence[Dashboard]) -> list[QueryAnswer]:
    answers = []
    for board in dashboards:
        for query in board.queries:
            path = "/api/v1/query?" + urllib.parse.urlencode({"query": query.expr})
            answers.append(QueryAnswer(f"{board.obj.ref} {query.where}", query.expr, get_json(base_url, path)))
    return answers
