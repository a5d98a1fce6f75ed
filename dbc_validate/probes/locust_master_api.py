"""A running Locust master read through its web API (`GET /stats/requests`): the in-cluster load's counters.

The master keeps cumulative totals for as long as it runs, whoever watches it (its workers report every 3 s, so
the totals move in steps). A reader that attaches with the
totals it last recorded (`since`) first reports what happened while nobody watched (the harness was down), then
one window per read with the requests and failures since the previous read and the master's current p50/p95.
Same events as the local load generator (`started`, `window`), plus `reattached` with the unwatched stretch.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

AGGREGATED = "Aggregated"


@dataclass(frozen=True)
class MasterTotals:
    requests: int
    failures: int
    p50_ms: float | None
    p95_ms: float | None
    state: str
    user_count: int
    workers: int


def parse_totals(report: dict[str, Any]) -> MasterTotals:
    """The totals of a `/stats/requests` answer (the "Aggregated" row, the current percentiles, the workers)."""
    rows = report.get("stats") or []
    total = next((r for r in rows if r.get("name") == AGGREGATED), rows[-1] if rows else {})
    percentiles = report.get("current_response_time_percentiles") or {}
    return MasterTotals(
        requests=int(total.get("num_requests") or 0),
        failures=int(total.get("num_failures") or 0),
        p50_ms=percentiles.get("response_time_percentile_0.5"),
        p95_ms=percentiles.get("response_time_percentile_0.95"),
        state=str(report.get("state") or ""),
        user_count=int(report.get("user_count") or 0),
        workers=len(report.get("workers") or []),
    )


def read_totals(api_url: str, timeout_s: float = 5.0) -> MasterTotals:
    with urllib.request.urlopen(f"{api_url}/stats/requests", timeout=timeout_s) as response:
        return parse_totals(json.loads(response.read()))


class MasterApiLoad:
    """The LoadGenerator interface (start, alive, events, stop, failure) over a master someone else runs."""

    def __init__(
        self, api_url: str, since: tuple[int, int] | None = None, reconnect: Callable[[], str] | None = None
    ) -> None:
        self.api_url = api_url
        self.reconnect = reconnect  # a fresh API URL (a new port-forward) when the master stops answering
        self.since = since  # (requests, failures) the last recorded sample had counted, when reattaching
        self.last: MasterTotals | None = None
        self.error = ""
        self.unwatched: dict[str, Any] | None = None  # the "reattached" event, once read

    def start(self) -> MasterApiLoad:
        """Reach the master again when it does not answer (kubectl port-forward exits on a refused connection)."""
        if self.reconnect is not None and not self.alive():
            self.api_url = self.reconnect()
        return self

    def alive(self) -> bool:
        try:
            read_totals(self.api_url)
        except (OSError, ValueError, urllib.error.URLError) as exc:
            self.error = str(exc)
            return False
        return True

    def events(self) -> Iterator[dict[str, Any]]:
        try:
            now = read_totals(self.api_url)
        except (OSError, ValueError, urllib.error.URLError) as exc:
            self.error = str(exc)
            return
        t = time.time()
        if self.last is None:
            self.last = now
            if self.since is not None:
                # A master restarted meanwhile starts from zero: then only what it counted since is known.
                restarted = now.requests < self.since[0]
                base = (0, 0) if restarted else self.since
                self.unwatched = {
                    "event": "reattached",
                    "t": t,
                    "requests": now.requests - base[0],
                    "failures": now.failures - base[1],
                    "master_restarted": restarted,
                }
            yield {"event": "started", "t": t, "users": now.user_count, "workers": now.workers, "state": now.state}
            if self.unwatched is not None:
                yield self.unwatched
            return
        previous, self.last = self.last, now
        restarted = now.requests < previous.requests
        base = MasterTotals(0, 0, None, None, "", 0, 0) if restarted else previous
        yield {
            "event": "window",
            "t": t,
            "requests": now.requests - base.requests,
            "failures": now.failures - base.failures,
            "latencies_ms": [],
            "p50_ms": now.p50_ms,
            "p95_ms": now.p95_ms,
            "first_error": "",
            "totals": [now.requests, now.failures],
        }

    def stop(self) -> None:
        """Detach: the master and its workers keep running (they are the cluster's until cleaned up)."""

    def failure(self) -> str:
        return f"the Locust master's API at {self.api_url} does not answer: {self.error}"
