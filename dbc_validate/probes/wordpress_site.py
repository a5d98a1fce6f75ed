"""WordPress through Traefik (the set's Host header): each variant's answer timed, the install completed over
HTTP, an admin session with an application password, posts and media through the REST API (`?rest_route=`,
which needs no rewrite rules), read back through every variant."""

from __future__ import annotations

import base64
import http.client
import json
import secrets
import struct
import time
import urllib.parse
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from typing import Any

from dbc_validate.analysis.app_checks import TimedAnswer
from dbc_validate.analysis.live.apps import HttpAnswer
from dbc_validate.capabilities import HttpRoute

UNMARKED = "(unmarked)"  # the variant of every answer on a route whose backends add no marker header
MAX_TRIES = 24  # requests per host to meet every variant of a weighted round robin (70/30 needs at most 4)


@dataclass(frozen=True)
class Reply:
    status: int
    headers: Mapping[str, str]  # lower-case names (the last value of a repeated header)
    body: bytes
    seconds: float
    variant: str

    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def json(self) -> Any:
        return json.loads(self.body or b"null")

    def answer(self) -> HttpAnswer:
        return HttpAnswer(self.status, self.text()[:20000], self.headers.get("location", ""))


class ProbeFailed(Exception):
    """A step of the WordPress flow did not answer as WordPress does; the message says which and how."""


@dataclass
class WordPressSite:
    """HTTP through Traefik's entry point with `host` as Host header; cookies kept like a browser."""

    base_url: str
    host: str
    marker: str  # the response header naming the variant ("X-Dbc-Variant"); "" when the route has none
    timeout_s: float = 60.0
    cookies: dict[str, str] = field(default_factory=dict)
    auth: str = ""  # "Basic ..." once an application password exists

    def request(
        self, method: str, path: str, body: bytes | None = None, headers: Mapping[str, str] | None = None
    ) -> Reply:
        url = urllib.parse.urlsplit(self.base_url)
        sent = {"Host": self.host, "User-Agent": "dbc-validate", **(headers or {})}
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if self.auth:
            sent["Authorization"] = self.auth
        began = time.monotonic()
        conn = http.client.HTTPConnection(url.hostname or "127.0.0.1", url.port or 80, timeout=self.timeout_s)
        try:
            conn.request(method, path, body=body, headers=sent)
            response = conn.getresponse()
            data = response.read()
        except OSError as exc:
            raise ProbeFailed(f"{method} http://{self.host}{path} via {self.base_url}: {exc}") from None
        finally:
            conn.close()
        seconds = time.monotonic() - began
        for raw in response.headers.get_all("Set-Cookie") or []:
            cookie: SimpleCookie = SimpleCookie()
            cookie.load(raw)
            for name, morsel in cookie.items():
                self.cookies[name] = morsel.value
        names = {k.lower(): v for k, v in response.getheaders()}
        variant = names.get(self.marker.lower(), "") if self.marker else UNMARKED
        return Reply(response.status, names, data, seconds, variant or UNMARKED)

    def form(self, path: str, fields: Mapping[str, str]) -> Reply:
        body = urllib.parse.urlencode(fields).encode()
        return self.request("POST", path, body, {"Content-Type": "application/x-www-form-urlencoded"})

    def rest(self, method: str, route: str, payload: Any = None, query: str = "") -> Reply:
        path = f"/?rest_route={urllib.parse.quote(route)}{'&' + query if query else ''}"
        body = None if payload is None else json.dumps(payload, ensure_ascii=False).encode("utf-8")
        headers = {"Content-Type": "application/json; charset=utf-8"} if body is not None else {}
        return self.request(method, path, body, headers)


def marker_of(route: HttpRoute) -> str:
    return next((name for b in route.backends for name in b.marker), "")


def per_variant(call: Callable[[], Reply], variants: Sequence[str], tries: int = MAX_TRIES) -> dict[str, Reply]:
    """The first reply from each variant, calling until every one answered (or `tries` calls were made)."""
    got: dict[str, Reply] = {}
    for _ in range(tries):
        reply = call()
        got.setdefault(reply.variant, reply)
        if all(v in got for v in variants):
            break
    return got


def sample_host(site: WordPressSite, variants: Sequence[str], rounds: int = 3) -> list[TimedAnswer]:
    """GET / until every variant answered `rounds` times (or MAX_TRIES * rounds requests)."""
    answers: list[TimedAnswer] = []
    for _ in range(MAX_TRIES * rounds):
        reply = site.request("GET", "/")
        answers.append(TimedAnswer(site.host, reply.variant, reply.answer(), reply.seconds))
        if all(sum(a.variant == v for a in answers) >= rounds for v in variants):
            break
    return answers


@dataclass(frozen=True)
class Admin:
    user: str
    password: str = field(repr=False)
    email: str = "dbc-validate@example.invalid"


def new_admin() -> Admin:
    return Admin("dbc-admin", secrets.token_urlsafe(18))


def install(site: WordPressSite, admin: Admin) -> str:
    """Complete WordPress's installer over HTTP (it creates its tables through its own DB connection).
    Returns what happened; ProbeFailed with WordPress's answer when it could not."""
    page = site.request("GET", "/wp-admin/install.php")
    if page.status >= 500 or "Error establishing a database connection" in page.text():
        raise ProbeFailed(f"the installer answered HTTP {page.status}: {_title(page)}")
    if "Already Installed" in page.text() or "already installed" in page.text():
        return "already installed"
    done = site.form(
        "/wp-admin/install.php?step=2",
        {
            "weblog_title": "dbc-validate 越野摩托车论坛",
            "user_name": admin.user,
            "admin_password": admin.password,
            "admin_password2": admin.password,
            "pw_weak": "1",
            "admin_email": admin.email,
            "blog_public": "0",
            "language": "",
        },
    )
    if done.status != 200 or "Success!" not in done.text():
        raise ProbeFailed(f"the installer's step 2 answered HTTP {done.status}: {_title(done)}")
    return f"installed through {done.variant} in {done.seconds:.1f} s"


def _title(reply: Reply) -> str:
    text = reply.text()
    start, end = text.find("<title>"), text.find("</title>")
    if start >= 0 and end > start:
        return text[start + 7 : end].strip()
    return " ".join(text.split())[:160]


def log_in(site: WordPressSite, admin: Admin) -> None:
    """Cookie login, a REST nonce, then an application password for Basic auth on every later call."""
    site.request("GET", "/wp-login.php")  # sets the test cookie the login form requires
    login = site.form(
        "/wp-login.php",
        {"log": admin.user, "pwd": admin.password, "testcookie": "1", "redirect_to": "/wp-admin/", "rememberme": ""},
    )
    if login.status != 302 or not any(k.startswith("wordpress_logged_in") for k in site.cookies):
        raise ProbeFailed(f"login as {admin.user} answered HTTP {login.status}: {_title(login)}")
    nonce = site.request("GET", "/wp-admin/admin-ajax.php?action=rest-nonce")
    if nonce.status != 200 or not nonce.text().strip().isalnum():
        raise ProbeFailed(f"no REST nonce (HTTP {nonce.status}): {_title(nonce)}")
    path = f"/?rest_route={urllib.parse.quote('/wp/v2/users/me/application-passwords')}"
    created = site.request(
        "POST",
        path,
        json.dumps({"name": "dbc-validate"}).encode(),
        {"Content-Type": "application/json", "X-WP-Nonce": nonce.text().strip()},
    )
    if created.status != 201:
        raise ProbeFailed(f"creating an application password answered HTTP {created.status}: {created.text()[:200]}")
    token = f"{admin.user}:{created.json()['password']}"
    site.auth = "Basic " + base64.b64encode(token.encode()).decode()
    site.cookies.clear()  # from here on the application password alone authenticates


def create_post(site: WordPressSite, title: str, content: str) -> Reply:
    reply = site.rest("POST", "/wp/v2/posts", {"title": title, "content": content, "status": "publish"})
    if reply.status != 201:
        raise ProbeFailed(f"creating a post answered HTTP {reply.status}: {reply.text()[:200]}")
    return reply


def upload_media(site: WordPressSite, name: str, data: bytes, mime: str) -> Reply:
    reply = site.request(
        "POST",
        f"/?rest_route={urllib.parse.quote('/wp/v2/media')}",
        data,
        {"Content-Type": mime, "Content-Disposition": f'attachment; filename="{name}"'},
    )
    if reply.status != 201:
        raise ProbeFailed(f"uploading {name} answered HTTP {reply.status}: {reply.text()[:200]}")
    return reply


def raw_post(reply: Reply) -> tuple[str, str] | None:
    """(title.raw, content.raw) of a REST post read with context=edit."""
    if reply.status != 200:
        return None
    body = reply.json()
    return str(body["title"]["raw"]), str(body["content"]["raw"])


def tiny_png(token: bytes) -> bytes:
    """A valid 1x1 PNG carrying `token` in a text chunk, so every upload has distinct bytes."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\x80\x00")
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"tEXt", b"dbc\x00" + token)
        + chunk(b"IDAT", pixels)
        + chunk(b"IEND", b"")
    )
