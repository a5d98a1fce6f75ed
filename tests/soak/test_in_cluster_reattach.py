"""Reaching the in-cluster Locust master: a master whose pod is Ready but whose API does not listen yet is waited
for, and a port-forward that exited (kubectl exits on a refused connection to the pod) is made again."""

from __future__ import annotations

import json
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler

import pytest
from helpers import http_server

from dbc_validate.cluster.soak_subject import MasterForward
from dbc_validate.probes.locust_master_api import MasterApiLoad
from dbc_validate.probes.soak.runner import _wait_for_load
from dbc_validate.tools.processes import free_ports

STATS = {"stats": [{"name": "Aggregated", "num_requests": 40, "num_failures": 0}], "state": "running", "user_count": 2}


class Stats(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = json.dumps(STATS).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def master() -> Iterator[int]:
    with http_server(Stats) as server:
        yield server.server_address[1]


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_a_master_not_answering_yet_is_waited_for_through_a_new_port_forward(master):
    refused = free_ports(1)[0]  # the first forward's port: nothing listens (kubectl has exited)
    urls = iter([f"http://127.0.0.1:{master}"])
    load = MasterApiLoad(f"http://127.0.0.1:{refused}", reconnect=lambda: next(urls))
    clock = FakeClock()
    _wait_for_load(load, clock, clock.sleep, timeout_s=30.0)
    assert load.api_url == f"http://127.0.0.1:{master}" and load.last is not None and load.last.requests == 40


def test_a_master_that_never_answers_fails_after_the_timeout_naming_the_refusal():
    refused = free_ports(1)[0]
    load = MasterApiLoad(f"http://127.0.0.1:{refused}")
    clock = FakeClock()
    with pytest.raises(RuntimeError, match=r"did not start within 30 s: .*does not answer.*refused"):
        _wait_for_load(load, clock, clock.sleep, timeout_s=30.0)
    assert clock.now >= 30.0


class ForwardingAccess:
    """Hands out the given local ports in turn, as kubectl port-forward would listen on them."""

    def __init__(self, *ports: int) -> None:
        self.ports = list(ports)
        self.forwards = 0

    def port_forward(self, namespace: str, resource: str, remote_port: int, name: str) -> int:
        assert (namespace, resource, remote_port) == ("dbc-load", "svc/locust-master", 8089)
        self.forwards += 1
        return self.ports.pop(0)


def test_the_master_is_forwarded_again_only_once_the_old_forward_stopped_listening(master):
    gone = free_ports(1)[0]
    access = ForwardingAccess(master, master)
    forward = MasterForward(access)
    assert forward.url() == f"http://127.0.0.1:{master}" and access.forwards == 1
    assert forward.url() == f"http://127.0.0.1:{master}" and access.forwards == 1  # still listening: kept
    forward.port = gone  # kubectl exited
    assert forward.url() == f"http://127.0.0.1:{master}" and access.forwards == 2
