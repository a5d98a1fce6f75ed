"""exec (WebSocket v5/v4.channel.k8s.io) and port-forward (SPDY/3.1, direct or over WebSocket) tunnels: exec answers
come from the scenario, port-forward relays to a real local TCP port."""

from __future__ import annotations

import base64
import hashlib
import json
import socket
import struct
import threading
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .model import ApiError


def ws_accept(h: Any, protocols: list) -> str | None:
    offered = [p.strip() for p in (h.headers.get("Sec-WebSocket-Protocol") or "").split(",") if p.strip()]
    chosen = next((p for p in protocols if p in offered), None)
    if (h.headers.get("Upgrade") or "").lower() != "websocket" or chosen is None:
        return None
    accept = base64.b64encode(
        hashlib.sha1((h.headers["Sec-WebSocket-Key"] + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest()
    ).decode()
    h.send_response(101, "Switching Protocols")
    h.send_header("Upgrade", "websocket")
    h.send_header("Connection", "Upgrade")
    h.send_header("Sec-WebSocket-Accept", accept)
    h.send_header("Sec-WebSocket-Protocol", chosen)
    h.end_headers()
    h.wfile.flush()
    h.close_connection = True
    return chosen


def pod_exec(h: Any, ns: str, name: str, q: dict) -> None:
    d = h.double
    pod = h.get_obj(d.find_res("", "v1", "pods"), ns, name)
    argv, container = q.get("command", []), q.get("container", [""])[0]
    proto = ws_accept(h, ["v5.channel.k8s.io", "v4.channel.k8s.io"])
    if proto is None:
        raise ApiError(400, "BadRequest", "double: exec only over WebSocket (v5/v4.channel.k8s.io)")
    ws = WebSocket(h.rfile, h.wfile)
    handler = d.exec_handler or default_exec
    rc, out, err = handler(ns, name, container or pod["spec"]["containers"][0]["name"], argv)
    if out:
        ws.send(2, b"\x01" + out.encode())
    if err:
        ws.send(2, b"\x02" + err.encode())
    if rc == 0:
        st = {"metadata": {}, "status": "Success"}
    else:
        st = {
            "metadata": {},
            "status": "Failure",
            "reason": "NonZeroExitCode",
            "message": f"command terminated with non-zero exit code: exit status {rc}",
            "details": {"causes": [{"reason": "ExitCode", "message": str(rc)}]},
        }
    ws.send(2, b"\x03" + json.dumps(st).encode())
    ws.close()


def pod_portforward(h: Any, ns: str, name: str, q: dict) -> None:
    d = h.double
    h.get_obj(d.find_res("", "v1", "pods"), ns, name)
    upgrade = (h.headers.get("Upgrade") or "").lower()
    if upgrade == "websocket":
        if ws_accept(h, ["SPDY/3.1+portforward.k8s.io"]) is None:
            raise ApiError(400, "BadRequest", "unsupported websocket subprotocol")
        ws = WebSocket(h.rfile, h.wfile)
        conn = SpdyConn(ws.read_bytes, lambda b: ws.send(2, b), forward_target(h, ns, name))
    elif upgrade == "spdy/3.1":
        h.send_response(101, "Switching Protocols")
        h.send_header("Connection", "Upgrade")
        h.send_header("Upgrade", "SPDY/3.1")
        h.send_header("X-Stream-Protocol-Version", "portforward.k8s.io")
        h.end_headers()
        h.wfile.flush()
        h.close_connection = True
        lock = threading.Lock()

        def write(b: bytes) -> None:
            with lock:
                h.wfile.write(b)
                h.wfile.flush()

        conn = SpdyConn(lambda n: h.rfile.read(n), write, forward_target(h, ns, name))
    else:
        raise ApiError(400, "BadRequest", "upgrade required")
    conn.serve()


def forward_target(h: Any, ns: str, pod: str) -> Callable[[int], tuple]:
    def target(port: int) -> tuple:
        routed = h.double.route_forward(ns, pod, port) if h.double.route_forward else None
        return routed or h.double.forwards.get((ns, pod, port), ("127.0.0.1", port))

    return target


def default_exec(ns: str, pod: str, container: str, argv: list) -> tuple:
    if argv[:2] == ["id", "-u"]:
        return 0, "1000\n", ""
    if argv[:1] == ["echo"]:
        return 0, " ".join(argv[1:]) + "\n", ""
    if argv[:2] == ["sh", "-c"] and argv[2].startswith("exit "):
        return int(argv[2].split()[1]), "", "scripted failure\n"
    return 127, "", f"double: no script for {argv}\n"


# ---------------------------------------------------------------------------------------------------------
# WebSocket (RFC 6455) server side, minimal


class WebSocket:
    def __init__(self, rfile: Any, wfile: Any):
        self.rfile, self.wfile = rfile, wfile
        self.lock = threading.Lock()
        self.buf = b""
        self.closed = False

    def send(self, opcode: int, payload: bytes) -> None:
        n = len(payload)
        head = bytes([0x80 | opcode])
        head += (
            bytes([n])
            if n < 126
            else (bytes([126]) + struct.pack(">H", n) if n < 65536 else bytes([127]) + struct.pack(">Q", n))
        )
        with self.lock:
            try:
                self.wfile.write(head + payload)
                self.wfile.flush()
            except OSError:
                self.closed = True

    def recv(self) -> tuple[int, bytes] | None:
        data, first_op = b"", None
        while True:
            h = self.rfile.read(2)
            if len(h) < 2:
                return None
            fin, op, masked, n = h[0] & 0x80, h[0] & 0x0F, h[1] & 0x80, h[1] & 0x7F
            if n == 126:
                n = struct.unpack(">H", self.rfile.read(2))[0]
            elif n == 127:
                n = struct.unpack(">Q", self.rfile.read(8))[0]
            mask = self.rfile.read(4) if masked else b"\0\0\0\0"
            payload = bytearray(self.rfile.read(n))
            for i in range(len(payload)):
                payload[i] ^= mask[i % 4]
            if op == 9:  # ping
                self.send(10, bytes(payload))
                continue
            if op == 10:
                continue
            if op == 8:
                self.close()
                return None
            if first_op is None:
                first_op = op
            data += payload
            if fin:
                return first_op, data

    def read_bytes(self, n: int) -> bytes:
        while len(self.buf) < n:
            m = self.recv()
            if m is None:
                out, self.buf = self.buf, b""
                return out
            self.buf += m[1]
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def close(self) -> None:
        if not self.closed:
            self.send(8, struct.pack(">H", 1000))
            self.closed = True


# ---------------------------------------------------------------------------------------------------------
# SPDY/3.1 server side, minimal (what kubectl port-forward's moby/spdystream client needs)

SPDY_DICT = (
    Path(__file__).parent / "spdy_dict.bin"
).read_bytes()  # the SPDY/3 header dictionary (1423 bytes, from the spec)
SYN_STREAM, SYN_REPLY, RST_STREAM, SETTINGS, PING, GOAWAY, HEADERS, WINDOW_UPDATE = 1, 2, 3, 4, 6, 7, 8, 9
FLAG_FIN = 1


class SpdyConn:
    def __init__(self, read: Callable[[int], bytes], write: Callable[[bytes], None], target: Callable[[int], tuple]):
        self.read, self._write = read, write
        self.target = target
        self.inflate = zlib.decompressobj(zdict=SPDY_DICT)
        self.deflate = zlib.compressobj(zdict=SPDY_DICT)
        self.lock = threading.Lock()
        self.socks: dict[int, socket.socket] = {}
        self.error_streams: dict[str, int] = {}  # requestid -> error stream id

    def write(self, b: bytes) -> None:
        with self.lock:
            self._write(b)

    def headers(self, block: bytes) -> dict:
        raw = self.inflate.decompress(block)
        (n,), pos, out = struct.unpack(">I", raw[:4]), 4, {}
        for _ in range(n):
            (ln,) = struct.unpack(">I", raw[pos : pos + 4])
            name = raw[pos + 4 : pos + 4 + ln].decode()
            pos += 4 + ln
            (lv,) = struct.unpack(">I", raw[pos : pos + 4])
            value = raw[pos + 4 : pos + 4 + lv].decode()
            pos += 4 + lv
            out[name] = value
        return out

    def control(self, typ: int, flags: int, data: bytes) -> bytes:
        return struct.pack(">HHI", 0x8000 | 3, typ, (flags << 24) | len(data)) + data

    def data(self, sid: int, payload: bytes, fin: bool = False) -> None:
        self.write(struct.pack(">II", sid, ((FLAG_FIN if fin else 0) << 24) | len(payload)) + payload)

    def syn_reply(self, sid: int) -> None:
        with self.lock:
            block = self.deflate.compress(struct.pack(">I", 0)) + self.deflate.flush(zlib.Z_SYNC_FLUSH)
            self._write(self.control(SYN_REPLY, 0, struct.pack(">I", sid) + block))

    def serve(self) -> None:
        try:
            while True:
                head = self.read(8)
                if len(head) < 8:
                    break
                w1, w2 = struct.unpack(">II", head)
                flags, length = w2 >> 24, w2 & 0xFFFFFF
                payload = self.read(length) if length else b""
                if w1 & 0x80000000:
                    self.on_control(w1 & 0xFFFF, flags, payload)
                else:
                    self.on_data(w1 & 0x7FFFFFFF, flags, payload)
        finally:
            for s in self.socks.values():
                s.close()

    def on_control(self, typ: int, flags: int, p: bytes) -> None:
        if typ == SYN_STREAM:
            sid = struct.unpack(">I", p[:4])[0] & 0x7FFFFFFF
            h = self.headers(p[10:])
            self.syn_reply(sid)
            port, rid = int(h.get("port", "0")), h.get("requestid", "")
            if h.get("streamtype") == "error":
                self.error_streams[rid] = sid
            elif h.get("streamtype") == "data":
                host, tport = self.target(port)
                try:
                    s = socket.create_connection((host, tport), timeout=5)
                    s.settimeout(None)
                except OSError as exc:
                    esid = self.error_streams.get(rid)
                    if esid:
                        self.data(esid, f"double: cannot reach {host}:{tport}: {exc}".encode(), fin=True)
                    self.data(sid, b"", fin=True)
                    return
                self.socks[sid] = s
                threading.Thread(target=self.pump, args=(sid, s, rid), daemon=True).start()
        elif typ == PING:
            self.write(self.control(PING, 0, p))
        elif typ == RST_STREAM:
            sid = struct.unpack(">I", p[:4])[0] & 0x7FFFFFFF
            s = self.socks.pop(sid, None)
            if s:
                s.close()
        # SETTINGS, WINDOW_UPDATE, HEADERS, GOAWAY: ignored

    def on_data(self, sid: int, flags: int, p: bytes) -> None:
        s = self.socks.get(sid)
        if s is None:
            return
        try:
            if p:
                s.sendall(p)
            if flags & FLAG_FIN:
                s.shutdown(socket.SHUT_WR)
        except OSError:
            pass

    def pump(self, sid: int, s: socket.socket, rid: str) -> None:
        try:
            while True:
                b = s.recv(65536)
                if not b:
                    break
                self.data(sid, b)
        except OSError:
            pass
        try:
            self.data(sid, b"", fin=True)
            esid = self.error_streams.pop(rid, None)
            if esid:
                self.data(esid, b"", fin=True)
        except OSError:
            pass
