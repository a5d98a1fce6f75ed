"""Locust as a library, headless, in its own process (Locust patches the standard library with gevent).

Never import this module into the pytest process: `locust_runner.LocustWorker` starts it as
`python -m dbc_validate.probes.locust_worker JOB.json` (one process, or a Locust master when the job has a
"distributed" key), and `python -m dbc_validate.probes.locust_worker --worker HOST:PORT` starts a Locust
worker that joins that master (locally or from another machine). Only the deciding process (the single one
or the master) writes one JSON object per line to the job's events file:
- mode "split": progress lines, then one "result" line as soon as the sequential test decides (or a limit
  is reached); variants are read from the marker response header set by Traefik's middleware;
- mode "soak": one "window" line per `window_s` (requests, failures, latencies) at a steady low rate,
  until `max_seconds` or until the parent stops it.
"""

from __future__ import annotations

# Locust first: it monkey-patches the standard library, which must happen before anything else loads it.
from locust import FastHttpUser, constant, constant_throughput
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

from dbc_validate.probes import locust_distributed as distributed
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
    return distributed.route_user(distributed.RouteConfig.from_job(job, wait_time))


def _error_text(response: Any, exception: Any) -> str:
    status = getattr(response, "status_code", None)
    return f"HTTP {status}: {exception}" if status else str(exception)


class SplitCounter:
    """Feeds response outcomes to the sequential test, wherever they were observed (this process or a worker)."""

    def __init__(self, job: dict[str, Any], finish: Callable[[str], None]) -> None:
        h = job["hypothesis"]
        self.test = SequentialSplitTest(
            SplitHypothesis(
                shares={k: Fraction(v) for k, v in h["shares"].items()},
                delta=float(h["delta"]),
                alpha=float(h["alpha"]),
                beta=float(h["beta"]),
                replicas=h.get("replicas"),
                in_flight=int(job["in_flight"]),
            )
        )
        self.labels: dict[str, str] = job.get("labels") or {}
        self.max_requests = int(job["max_requests"])
        self.finish = finish
        self.failures = 0
        self.first_error = ""
        self.pairs: dict[str, int] = {}
        self.done = False

    def success(self, value: str, backend: str) -> None:
        if self.done:
            return  # requests still in flight when the test decided are not counted
        pair = f"{value} <- {backend}"
        self.pairs[pair] = self.pairs.get(pair, 0) + 1
        decision = self.test.observe(self.labels.get(value, value))
        if decision.outcome is not Outcome.CONTINUE:
            self.finish("decided")
        elif self.test.requests >= self.max_requests:
            self.finish("max_requests")

    def failure(self, error: str) -> None:
        if self.done:
            return
        self.failures += 1
        self.first_error = self.first_error or error
        if self.failures >= max(20, 0.05 * (self.failures + self.test.requests)):
            self.finish("errors")


def _outcome(job: dict[str, Any], response: Any, exception: Any) -> tuple[str, str] | str:
    """(marker value, backend) of a response, or the error text of a failed request."""
    if exception is not None:
        return _error_text(response, exception)
    backend_header = job.get("backend_header")
    value = response.headers.get(job["marker_header"]) or UNMARKED
    return value, (response.headers.get(backend_header) if backend_header else None) or "?"


def _runner(env: Environment, job: dict[str, Any]) -> Any:
    spec = job.get("distributed")
    if not spec:
        return env.create_local_runner()
    return env.create_master_runner(master_bind_host=spec["bind_host"], master_bind_port=int(spec["bind_port"]))


def run_split(job: dict[str, Any], events: EventWriter) -> None:
    env = Environment(user_classes=[_user_class(job, constant(0))], host=job["base_url"])
    runner = _runner(env, job)
    started = time.monotonic()

    def finish(why: str) -> None:
        if counter.done:
            return
        counter.done = True
        decision = counter.test.decision
        events.write(
            "result",
            why=why,
            outcome=decision.outcome.value,
            decided_by=decision.decided_by,
            reason=decision.reason,
            requests=counter.test.requests,
            counts=dict(counter.test.counts),
            failures=counter.failures,
            first_error=counter.first_error,
            pairs=counter.pairs,
            elapsed_s=round(time.monotonic() - started, 3),
        )
        runner.quit()

    counter = SplitCounter(job, finish)

    def record(outcome: tuple[str, str] | str) -> None:
        if isinstance(outcome, str):
            counter.failure(outcome)
        else:
            counter.success(*outcome)

    def progress() -> None:
        while not counter.done:
            gevent.sleep(1.0)
            if not counter.done:
                test = counter.test
                events.write("progress", requests=test.requests, counts=dict(test.counts), failures=counter.failures)

    if job.get("distributed"):
        distributed.MasterFanIn(runner, job, record).install()
        if not _wait_for_workers(runner, job, events):
            counter.done = True
            runner.quit()
            return
        started = time.monotonic()
    else:
        env.events.request.add_listener(
            lambda response=None, exception=None, **_: record(_outcome(job, response, exception))
        )
    gevent.spawn(progress)
    gevent.spawn_later(float(job["max_seconds"]), finish, "max_seconds")
    users = int(job["users"])
    runner.start(users, spawn_rate=users)
    runner.greenlet.join()
    finish("stopped")


def _wait_for_workers(runner: Any, job: dict[str, Any], events: EventWriter) -> bool:
    spec = job["distributed"]
    expected = int(spec["expect_workers"])
    deadline = time.monotonic() + float(spec["join_timeout_s"])
    events.write("waiting", expect_workers=expected, bind=f"{spec['bind_host']}:{spec['bind_port']}")
    while runner.worker_count < expected:
        if time.monotonic() > deadline:
            events.write(
                "error",
                message=f"only {runner.worker_count} of {expected} Locust worker(s) joined the master on "
                f"{spec['bind_host']}:{spec['bind_port']} within {float(spec['join_timeout_s']):.0f} s",
            )
            return False
        gevent.sleep(0.1)
    events.write("workers", joined=runner.worker_count)
    return True


def run_soak(job: dict[str, Any], events: EventWriter) -> None:
    users = int(job["users"])
    rate = float(job["rate_per_s"])
    env = Environment(user_classes=[_user_class(job, constant_throughput(rate / users))], host=job["base_url"])
    runner = _runner(env, job)
    window = distributed.LoadWindowTotals(MAX_WINDOW_LATENCIES)

    def flush_windows() -> None:
        while True:
            gevent.sleep(float(job["window_s"]))
            events.write("window", t=time.time(), **window.take())

    if job.get("distributed"):
        distributed.MasterFanIn(runner, job, on_totals=window.add_totals).install()
        if not _wait_for_workers(runner, job, events):
            runner.quit()
            return
    else:

        def on_request(response_time: float = 0.0, response: Any = None, exception: Any = None, **_: Any) -> None:
            error = "" if exception is None else _error_text(response, exception)
            window.add(1, 0 if exception is None else 1, [response_time], error)

        env.events.request.add_listener(on_request)
    gevent.spawn(flush_windows)
    gevent.spawn_later(float(job["max_seconds"]), runner.quit)
    events.write("started", t=time.time(), users=users, rate_per_s=rate)
    runner.start(users, spawn_rate=users)
    runner.greenlet.join()


def main(argv: list[str]) -> int:
    if len(argv) == 3 and argv[1] == "--worker":
        return distributed.run_worker(argv[2], _outcome)
    if len(argv) != 2:
        print(
            "usage: python -m dbc_validate.probes.locust_worker JOB.json\n"
            "       python -m dbc_validate.probes.locust_worker --worker MASTER_HOST:PORT",
            file=sys.stderr,
        )
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
