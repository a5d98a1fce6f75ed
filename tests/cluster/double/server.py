"""Serving a Double over HTTPS on 127.0.0.1 (self-signed cert, bearer token) and the kubeconfig that reaches it."""

from __future__ import annotations

import base64
import json
import ssl
import subprocess
import threading
from dataclasses import dataclass
from http.server import ThreadingHTTPServer
from pathlib import Path

from .routing import Handler
from .store import Double

# The first certificate and key this process made (PEM bytes): later doubles reuse them, as an RSA key takes
# openssl a good part of a second to generate and nothing here needs a different one per double.
_MADE: list[tuple[bytes, bytes]] = []


def make_cert(folder: Path) -> tuple[Path, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    cert, key = folder / "cert.pem", folder / "key.pem"
    if cert.exists():
        return cert, key
    if _MADE:
        cert.write_bytes(_MADE[0][0])
        key.write_bytes(_MADE[0][1])
        key.chmod(0o600)
        return cert, key
    subj = ["-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"]
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert), *subj],
        check=True,
        capture_output=True,
    )
    _MADE.append((cert.read_bytes(), key.read_bytes()))
    return cert, key


@dataclass
class Running:
    """A started double: its server thread, address and kubeconfig."""

    double: Double
    server: ThreadingHTTPServer
    kubeconfig: Path
    thread: threading.Thread

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    def stop(self) -> None:
        for close in self.double.closers:
            close()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


def start(double: Double, folder: Path, context: str = "double-lab") -> Running:
    """Serve `double` over TLS on a free port and write `folder/kubeconfig` (token auth, CA data inline)."""
    handler = type("BoundHandler", (Handler,), {"double": double})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    cert, key = make_cert(folder / "certs")
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(cert, key)
    tls.set_alpn_protocols(["http/1.1"])  # no h2: exec and port-forward upgrades need HTTP/1.1
    server.socket = tls.wrap_socket(server.socket, server_side=True)
    double.require_token = True
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True, name="k8s-double"
    )
    thread.start()
    port = server.server_address[1]
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "current-context": context,
        "clusters": [
            {
                "name": context,
                "cluster": {
                    "server": f"https://127.0.0.1:{port}",
                    "certificate-authority-data": base64.b64encode(cert.read_bytes()).decode(),
                },
            }
        ],
        "users": [{"name": context, "user": {"token": double.token}}],
        "contexts": [{"name": context, "context": {"cluster": context, "user": context}}],
    }
    path = folder / "kubeconfig"
    path.write_text(json.dumps(config, indent=1))
    path.chmod(0o600)
    return Running(double, server, path, thread)
