"""Small local HTTP servers standing in for the manifests' backend Services, one process per Service.

Each answers every request with 200 and says which Service it replaces (header `X-Dbc-Backend` and the body).
It never sets the variant marker itself: that header must come from Traefik's middleware, as in the cluster.
Run one with `python -m dbc_validate.labs.variant_backends --port P --backend ns/name:port --variant prod`.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from dbc_validate.capabilities import BACKEND_HEADER
from dbc_validate.tools.processes import LabProcess, free_ports, wait_for_port


def _handler(backend: str, variant: str) -> type[BaseHTTPRequestHandler]:
    body = json.dumps({"backend": backend, "variant": variant}).encode()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive: Traefik reuses connections, as to a pod
        # Headers and body leave in two writes; with Nagle on, the body waits for Traefik's delayed ACK (40 ms),
        # which capped a route at about 25 requests/s per connection.
        disable_nagle_algorithm = True

        def _answer(self, with_body: bool) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.send_header(BACKEND_HEADER, backend)
            self.end_headers()
            if with_body:
                self.wfile.write(body)

        def do_GET(self) -> None:
            self._answer(True)

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)
            self._answer(True)

        def do_HEAD(self) -> None:
            self._answer(False)

        def log_message(self, format: str, *args: object) -> None:
            return  # one line per request would grow the log for the whole soak

    return Handler


def serve(port: int, backend: str, variant: str, host: str = "127.0.0.1") -> None:
    server = ThreadingHTTPServer((host, port), _handler(backend, variant))
    server.daemon_threads = True
    print(f"variant backend {backend} ({variant}) on {host}:{port}", flush=True)
    server.serve_forever()


@dataclass
class VariantBackend:
    backend: str  # the Service it replaces, "namespace/name:port"
    variant: str
    port: int
    process: LabProcess

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"


def start_backends(
    backends: Sequence[tuple[str, str]], directory: Path, stack: ExitStack, timeout_s: float = 20.0
) -> list[VariantBackend]:
    """Start one server per (backend key, variant); each is stopped when `stack` closes."""
    ports = free_ports(len(backends))
    started: list[VariantBackend] = []
    for index, ((backend, variant), port) in enumerate(zip(backends, ports, strict=True)):
        argv = [
            sys.executable,
            "-m",
            "dbc_validate.labs.variant_backends",
            "--port",
            str(port),
            "--backend",
            backend,
            "--variant",
            variant,
        ]
        process = LabProcess(
            f"backend-{index}", argv, log_path=directory / f"backend-{index}.log", unprivileged=True
        ).start()
        stack.callback(process.stop)
        started.append(VariantBackend(backend, variant, port, process))
    for item in started:
        if not wait_for_port(item.port, timeout_s=timeout_s, alive=item.process.alive):
            raise RuntimeError(
                f"variant backend for {item.backend} did not listen on port {item.port}: {item.process.log_tail()}"
            )
    return started


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--backend", required=True, help="the Service this server stands for, namespace/name:port")
    parser.add_argument("--variant", required=True, help="the variant the manifests give that Service")
    parser.add_argument("--host", default="127.0.0.1")
    args = parser.parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        serve(args.port, args.backend, args.variant, args.host)
    return 0


if __name__ == "__main__":
    sys.exit(main())
