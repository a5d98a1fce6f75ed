"""The local backend servers: what they answer, and that their answers are not held back by Nagle's algorithm."""

from __future__ import annotations

import http.client
import socket

from helpers import http_server

from dbc_validate.capabilities import BACKEND_HEADER
from dbc_validate.labs.variant_backends import _handler


def test_a_backend_answers_on_a_kept_alive_connection_with_no_delay_and_names_the_service():
    seen_nodelay: list[int] = []
    base = _handler("dirtbikechina/wordpress-prod:80", "prod")

    class Recording(base):  # type: ignore[misc, valid-type]
        def do_GET(self) -> None:
            seen_nodelay.append(self.connection.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
            super().do_GET()

    with http_server(Recording) as server:
        connection = http.client.HTTPConnection("127.0.0.1", server.server_address[1], timeout=5)
        for _ in range(3):  # one connection for all three: keep-alive, as Traefik uses it
            connection.request("GET", "/")
            response = connection.getresponse()
            body = response.read()
            assert response.status == 200 and response.getheader(BACKEND_HEADER) == "dirtbikechina/wordpress-prod:80"
            assert b'"variant": "prod"' in body
        connection.close()
    # Headers and body go out in two writes: with Nagle on, the body waited 40 ms for the client's delayed ACK.
    assert len(seen_nodelay) == 3 and all(seen_nodelay)
