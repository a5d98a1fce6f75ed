"""Locust as a library, headless, in its own process (Locust patches the standard library with gevent).

Never import this module into the pytest process: `locust_runner.LocustWorker` starts it as
`python -m dbc_validate.probes.locust_worker JOB.json`. It writes one JSON object per line to the job's
events file:
- mode "split": progress lines, then one "result" line as soon as the sequential test decides (or a limit
  is reached); variants are read from the marker response header set by Traefik's middleware;
- mode "soak": one "window" line per `window_s` (requests, failures, latencies) at a steady low rate,
  until `max_seconds` or until the parent stops it.
"""

from __future__ import annotations

# Locust first: it monkey-patches the standard library, which must happen before anything else loads it.
from locust import FastHttpUser, constant, constant_throughput, task
from locust.env import Environment

# isort: split
import json
import sys
import time
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path
from typing import IO, Any

import gevent

from dbc_validate.stats import Outcome, SequentialSplitTest, SplitHypothesis

UNMARKED = "(no marker)"
MAX_WINDOW_LATENCIES = 5000  # per window; the soak's load is low, this only guards against a misconfiguration


class EventWriter:
    def __init__(self, path: Path) -> None:
        self._file: IO[str] = open(path, "a", encoding="utf-8")  # noqa: SIM115 (closed by close())

    def write(self, event: str, **fields: Any) -> None:
        self._file.write(json.dumps({"event": event, **fields}, default=str) + "\n")
        self._file.flush()

    def close(self) -> None:
        self._file.close()


def _user_class(job: dict[str, Any], wait_time: Callable[..., float]) -> type[FastHttpUser]:
    headers = {"Host": job["host_header"]} if job.get("host_header") else {}
    path = job.get("path") or "/"

    class RouteUser(FastHttpUser):
        host = job["base_url"]
        connection_timeout = 5.0
        network_timeout = 10.0

        @task
        def get(self) -> None:
            self.client.get(path, headers=headers, name=path)

    RouteUser.wait_time = wait_time  # type: ignore[assignment]
    return RouteUser


def _error_text(response: Any, exception: Any) -> str:
    status = getattr(response, "status_code", None)
    return f"HTTP {status}: {exception}" if status else str(exception)


def run_split(job: dict[str, Any], events: EventWriter) -> None:
    h = job["hypothesis"]
    hypothesis = SplitHypothesis(
        shares={k: Fraction(v) for k, v in h["shares"].items()},
        delta=float(h["delta"]),
        alpha=float(h["alpha"]),
        beta=float(h["beta"]),
        replicas=h.get("replicas"),
        in_flight=int(job["users"]),
    )
    labels: dict[str, str] = job.get("labels") or {}
    marker = job["marker_header"]
    backend_header = job.get("backend_header")
    test = SequentialSplitTest(hypothesis)
    env = Environment(user_classes=[_user_class(job, constant(0))])
    runner = env.create_local_runner()
    state: dict[str, Any] = {"failures": 0, "first_error": "", "pairs": {}, "done": False, "why": ""}
    started = time.monotonic()

    def finish(why: str) -> None:
        if state["done"]:
            return
        state["done"] = True
        decision = test.decision
        events.write(
            "result",
            why=why,
            outcome=decision.outcome.value,
            decided_by=decision.decided_by,
            reason=decision.reason,
            requests=test.requests,
            counts=dict(test.counts),
            failures=state["failures"],
            first_error=state["first_error"],
            pairs=state["pairs"],
            elapsed_s=round(time.monotonic() - started, 3),
        )
        runner.quit()

    def on_request(response: Any = None, exception: Any = None, **_: Any) -> None:
        if state["done"]:
            return  # requests still in flight when the test decided are not counted
        if exception is not None:
            state["failures"] += 1
            state["first_error"] = state["first_error"] or _error_text(response, exception)
            total = state["failures"] + test.requests
            if state["failures"] >= max(20, 0.05 * total):
                finish("errors")
            return
        value = response.headers.get(marker) or UNMARKED
        pair = f"{value} <- {response.headers.get(backend_header) if backend_header else '?'}"
        state["pairs"][pair] = state["pairs"].get(pair, 0) + 1
        decision = test.observe(labels.get(value, value))
        if decision.outcome is not Outcome.CONTINUE:
            finish("decided")
        elif test.requests >= int(job["max_requests"]):
            finish("max_requests")

    def progress() -> None:
        while not state["done"]:
            gevent.sleep(1.0)
            if not state["done"]:
                events.write("progress", requests=test.requests, counts=dict(test.counts), failures=state["failures"])

    env.events.request.add_listener(on_request)
    gevent.spawn(progress)
    gevent.spawn_later(float(job["max_seconds"]), finish, "max_seconds")
    runner.start(int(job["users"]), spawn_rate=int(job["users"]))
    runner.greenlet.join()
    finish("stopped")


def run_soak(job: dict[str, Any], events: EventWriter) -> None:
    users = int(job["users"])
    rate = float(job["rate_per_s"])
    env = Environment(user_classes=[_user_class(job, constant_throughput(rate / users))])
    runner = env.create_local_runner()
    window: dict[str, Any] = {"requests": 0, "failures": 0, "latencies": [], "first_error": ""}

    def on_request(response_time: float = 0.0, response: Any = None, exception: Any = None, **_: Any) -> None:
        window["requests"] += 1
        if exception is not None:
            window["failures"] += 1
            window["first_error"] = window["first_error"] or _error_text(response, exception)
        if len(window["latencies"]) < MAX_WINDOW_LATENCIES:
            window["latencies"].append(round(float(response_time), 2))

    def flush_windows() -> None:
        while True:
            gevent.sleep(float(job["window_s"]))
            events.write(
                "window",
                t=time.time(),
                requests=window["requests"],
                failures=window["failures"],
                latencies_ms=window["latencies"],
                first_error=window["first_error"],
            )
            window.update(requests=0, failures=0, latencies=[], first_error="")

    env.events.request.add_listener(on_request)
    gevent.spawn(flush_windows)
    gevent.spawn_later(float(job["max_seconds"]), runner.quit)
    events.write("started", t=time.time(), users=users, rate_per_s=rate)
    runner.start(users, spawn_rate=users)
    runner.greenlet.join()


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python -m dbc_validate.probes.locust_worker JOB.json", file=sys.stderr)
        return 2
    job = json.loads(Path(argv[1]).read_text(encoding="utf-8"))
    events = EventWriter(Path(job["events_path"]))
    try:
        {"split": run_split, "soak": run_soak}[job["mode"]](job, events)
    except Exception as exc:  # reported to the parent as an event, which turns it into a clear failure
        events.write("error", message=f"{type(exc).__name__}: {exc}")
        return 1
    finally:
        events.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
