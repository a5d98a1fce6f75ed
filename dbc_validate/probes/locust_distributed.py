"""Locust's own distributed mode for the split and soak load: master and workers talk through custom messages.

The job travels from the master to each worker once the worker says it is ready for it, so a worker needs no
file, only the master's address. Split: a worker sends every outcome back and holds back new requests while
`window` of its requests are not yet counted (acknowledged) by the master; that bounds the requests Traefik
served that the master has not counted, which the WRR bound needs. Soak: a worker sends its totals twice a
second. Only the master decides and writes events. Imported only by `locust_worker`, after Locust has patched
the standard library.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import gevent
from gevent.event import Event
from gevent.lock import Semaphore
from locust import FastHttpUser, constant, constant_throughput, task
from locust.env import Environment

READY = "dbc_ready"
JOB = "dbc_job"
OUTCOMES = "dbc_outcomes"
ACK = "dbc_ack"
TOTALS = "dbc_totals"
TOTALS_EVERY_S = 0.5
WORKER_JOB_KEYS = ("mode", "path", "host_header", "marker_header", "backend_header", "users", "rate_per_s", "window")

Outcome = tuple[str, str] | str  # (marker value, backend) or the error text of a failed request


@dataclass
class RouteConfig:
    """What a RouteUser requests; on a worker it is filled when the master's job arrives."""

    path: str = "/"
    headers: dict[str, str] = field(default_factory=dict)
    wait_time: Callable[..., float] = field(default_factory=lambda: constant(0))
    gate: Semaphore | None = None  # split on a worker: at most `window` requests not yet counted by the master

    @classmethod
    def from_job(cls, job: dict[str, Any], wait_time: Callable[..., float]) -> RouteConfig:
        headers = {"Host": job["host_header"]} if job.get("host_header") else {}
        return cls(path=job.get("path") or "/", headers=headers, wait_time=wait_time)


def route_user(config: RouteConfig) -> type[FastHttpUser]:
    class RouteUser(FastHttpUser):
        host = "http://127.0.0.1"  # replaced by the environment's host (sent by the master to its workers)
        connection_timeout = 5.0
        network_timeout = 10.0

        def wait_time(self) -> float:
            return config.wait_time(self)

        @task
        def get(self) -> None:
            if config.gate is not None:
                config.gate.acquire()
            self.client.get(config.path, headers=config.headers, name=config.path)

    return RouteUser


class LoadWindowTotals:
    """Requests, failures, latencies and the first error since the last `take()`."""

    def __init__(self, max_latencies: int) -> None:
        self.max_latencies = max_latencies
        self._reset()

    def _reset(self) -> None:
        self.requests = 0
        self.failures = 0
        self.latencies: list[float] = []
        self.first_error = ""

    def add(self, requests: int, failures: int, latencies: list[float], first_error: str) -> None:
        self.requests += requests
        self.failures += failures
        room = self.max_latencies - len(self.latencies)
        self.latencies += [round(float(x), 2) for x in latencies[: max(0, room)]]
        self.first_error = self.first_error or first_error

    def add_totals(self, data: dict[str, Any]) -> None:
        self.add(int(data["requests"]), int(data["failures"]), list(data["latencies_ms"]), str(data["first_error"]))

    def take(self) -> dict[str, Any]:
        out = {
            "requests": self.requests,
            "failures": self.failures,
            "latencies_ms": self.latencies,
            "first_error": self.first_error,
        }
        self._reset()
        return out


class MasterFanIn:
    """On the master: send the job to each worker that connects, count what workers send back, acknowledge it."""

    def __init__(
        self,
        runner: Any,
        job: dict[str, Any],
        on_outcome: Callable[[Outcome], None] | None = None,
        on_totals: Callable[[dict[str, Any]], None] | None = None,
    ) -> None:
        self.runner = runner
        self.worker_job = {k: job.get(k) for k in WORKER_JOB_KEYS}
        self.on_outcome = on_outcome
        self.on_totals = on_totals

    def install(self) -> None:
        self.runner.register_message(READY, self._ready)
        self.runner.register_message(OUTCOMES, self._outcomes)
        self.runner.register_message(TOTALS, self._totals)

    def _ready(self, environment: Environment, msg: Any) -> None:
        self.runner.send_message(JOB, self.worker_job, client_id=msg.node_id)

    def _outcomes(self, environment: Environment, msg: Any) -> None:
        outcomes = msg.data["outcomes"]
        for outcome in outcomes if self.on_outcome is not None else ():
            self.on_outcome(outcome if isinstance(outcome, str) else (str(outcome[0]), str(outcome[1])))
        # Counted first, acknowledged after: a worker's unacknowledged requests include every uncounted one.
        self.runner.send_message(ACK, {"n": len(outcomes)}, client_id=msg.node_id)

    def _totals(self, environment: Environment, msg: Any) -> None:
        if self.on_totals is not None:
            self.on_totals(msg.data)


class WorkerFanOut:
    """On a worker: take the master's job, send outcomes (split) or totals (soak) back."""

    def __init__(
        self, runner: Any, config: RouteConfig, outcome: Callable[[dict[str, Any], Any, Any], Outcome]
    ) -> None:
        self.runner = runner
        self.config = config
        self.outcome = outcome
        self.job: dict[str, Any] = {}
        self.buffer: list[Outcome] = []
        self.pending = Event()
        self.totals = LoadWindowTotals(5000)

    def on_job(self, environment: Environment, msg: Any) -> None:
        self.job = dict(msg.data)
        if self.job["mode"] == "split":
            self.config.wait_time = constant(0)
            self.config.gate = Semaphore(int(self.job["window"]))
            gevent.spawn(self._send_outcomes)
        else:
            self.config.wait_time = constant_throughput(float(self.job["rate_per_s"]) / int(self.job["users"]))
            gevent.spawn(self._send_totals)
        headers = {"Host": self.job["host_header"]} if self.job.get("host_header") else {}
        self.config.path, self.config.headers = self.job.get("path") or "/", headers

    def on_ack(self, environment: Environment, msg: Any) -> None:
        if self.config.gate is not None:
            for _ in range(int(msg.data["n"])):
                self.config.gate.release()

    def on_request(self, response_time: float = 0.0, response: Any = None, exception: Any = None, **_: Any) -> None:
        if not self.job:
            return
        if self.job["mode"] == "split":
            self.buffer.append(self.outcome(self.job, response, exception))
            self.pending.set()
        else:
            error = self.outcome(self.job, response, exception) if exception is not None else ""
            self.totals.add(1, 0 if exception is None else 1, [response_time], error if isinstance(error, str) else "")

    def _send_outcomes(self) -> None:
        while True:
            self.pending.wait()
            self.pending.clear()
            batch, self.buffer = self.buffer, []
            if batch:
                self.runner.send_message(OUTCOMES, {"outcomes": batch})

    def _send_totals(self) -> None:
        while True:
            gevent.sleep(TOTALS_EVERY_S)
            self.runner.send_message(TOTALS, self.totals.take())


def run_worker(address: str, outcome: Callable[[dict[str, Any], Any, Any], Outcome]) -> int:
    """A Locust worker joining the master at HOST:PORT; runs until the master quits."""
    host, _, port = address.rpartition(":")
    config = RouteConfig()
    env = Environment(user_classes=[route_user(config)])
    runner = env.create_worker_runner(host.strip("[]"), int(port))
    side = WorkerFanOut(runner, config, outcome)
    runner.register_message(JOB, side.on_job)
    runner.register_message(ACK, side.on_ack)
    env.events.request.add_listener(side.on_request)
    # Asked for only now: a job sent on connection could arrive before the handlers above exist.
    runner.send_message(READY)
    runner.greenlet.join()
    return 0
