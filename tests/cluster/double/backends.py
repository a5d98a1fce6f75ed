"""What answers behind the modelled cluster's Services: scripted service-proxy answers (Prometheus, Grafana, Loki,
as their HTTP APIs document them) and a local HTTP server standing in for the application behind Traefik."""

from __future__ import annotations

import fnmatch
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class ProxyAnswer:
    """`GET services/<service>/proxy<path>` in `namespace`: `path` is a glob over the path and query."""

    service: str
    path: str
    status: int = 200
    json: Any = None
    text: str = ""
    namespace: str = "*"

    def matches(self, ns: str, service: str, path: str) -> bool:
        return (
            fnmatch.fnmatchcase(ns, self.namespace) and service == self.service and fnmatch.fnmatchcase(path, self.path)
        )

    def body(self) -> tuple[int, str, str]:
        if self.json is not None:
            return self.status, "application/json", json.dumps(self.json)
        return self.status, "text/plain; charset=utf-8", self.text


def proxy_answers(answers: list[ProxyAnswer]):
    def answer(ns: str, service: str, path: str) -> tuple | None:
        found = next((a for a in answers if a.matches(ns, service, path)), None)
        return found.body() if found else None

    return answer


@dataclass
class HttpBackend:
    """A local HTTP server answering by Host header: what Traefik's web entryPoint returns for each route."""

    status: int = 200
    body: str = ""
    hosts: dict = field(default_factory=dict)  # host -> {status, body}
    server: ThreadingHTTPServer | None = None

    def answer(self, host: str) -> tuple[int, str]:
        chosen = self.hosts.get(host.split(":")[0]) or {}
        return int(chosen.get("status", self.status)), str(chosen.get("body", self.body))

    def start(self, port: int = 0) -> int:
        backend = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, fmt: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                status, body = backend.answer(self.headers.get("Host", ""))
                data = body.encode()
                self.send_response(status)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True, name="double-http"
        ).start()
        return int(self.server.server_address[1])

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
