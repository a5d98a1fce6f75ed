"""The application checks as flows over an AppStack (local lab or cluster alike): WordPress reachable for every
host and variant, WordPress's own database connection proven by a CJK post read back three ways, a post and a
media file surviving a restart of the database and every WordPress."""

from __future__ import annotations

import secrets
import urllib.parse
from dataclasses import dataclass, field

from dbc_validate.analysis.app_checks import (
    CJK_TEXT,
    TimedAnswer,
    access_findings,
    db_error_finding,
    same_text,
    segments_missing,
)
from dbc_validate.analysis.findings import Finding, finding
from dbc_validate.analysis.live.apps import app_hosts
from dbc_validate.capabilities import AppStack, HttpRoute
from dbc_validate.probes.mysql_health import read_post
from dbc_validate.probes.wordpress_site import (
    UNMARKED,
    Admin,
    ProbeFailed,
    Reply,
    WordPressSite,
    create_post,
    install,
    log_in,
    marker_of,
    new_admin,
    per_variant,
    raw_post,
    sample_host,
    tiny_png,
    upload_media,
)


def expected_variants(route: HttpRoute) -> list[str]:
    """The variants a client can tell apart on `route`: by its marker header, else all answers are one."""
    return list(route.shares()) if marker_of(route) else [UNMARKED]


def variants_of(apps: AppStack) -> list[str]:
    return expected_variants(apps.route)


def site_for(apps: AppStack, host: str | None = None, route: HttpRoute | None = None) -> WordPressSite:
    route = route or apps.route
    return WordPressSite(apps.ingress.base_url, host or route.hosts[0], marker_of(route))


def access(apps: AppStack) -> tuple[list[TimedAnswer], list[Finding]]:
    """GET / for every host the set routes to WordPress, until each variant of its route answered three times."""
    answers: list[TimedAnswer] = []
    findings: list[Finding] = []
    hosts = set(app_hosts(apps.ingress.routes))
    for route in apps.ingress.routes:
        for host in (h for h in route.hosts if h in hosts):
            try:
                mine = sample_host(site_for(apps, host, route), expected_variants(route))
            except ProbeFailed as exc:
                findings.append(finding("live.app", f"http://{host}/ via Traefik", str(exc)))
                continue
            answers += mine
            findings += access_findings(host, expected_variants(route), mine)
    return answers, findings


@dataclass
class AdminSession:
    """WordPress installed (by this run) and an authenticated client; built once per run."""

    site: WordPressSite
    admin: Admin
    installed: str


def open_session(apps: AppStack) -> AdminSession:
    """Install WordPress over HTTP through Traefik and log in; ProbeFailed says what WordPress answered."""
    site = site_for(apps)
    admin = new_admin()
    done = install(site, admin)
    if done == "already installed":
        raise ProbeFailed(
            "WordPress was already installed by someone else: the harness has no administrator to post with"
        )
    log_in(site, admin)
    return AdminSession(site, admin, done)


@dataclass
class RoundTrip:
    """A CJK post written through WordPress and read back; `shown` lines go to the report."""

    post_id: int = 0
    written_via: str = ""
    shown: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)


def read_back(apps: AppStack, session: AdminSession, post_id: int, text: str, result: RoundTrip) -> None:
    """The post through the REST API and the rendered page of every variant, and straight from MySQL."""
    variants = variants_of(apps)
    site = session.site
    rest = per_variant(lambda: site.rest("GET", f"/wp/v2/posts/{post_id}", query="context=edit"), variants)
    pages = per_variant(lambda: site.request("GET", f"/?p={post_id}"), variants)
    for variant in variants:
        if variant not in rest:
            result.findings.append(finding("live.app", f"post {post_id}", f"variant {variant} never answered"))
            continue
        got = raw_post(rest[variant])
        problems = _compare(f"post {post_id} via REST ({variant})", got, text)
        result.findings += problems
        shown = got[0] if got else f"HTTP {rest[variant].status}"
        result.shown.append(f"REST ({variant}): {shown} [{'changed' if problems else 'byte-identical'}]")
        page = pages.get(variant)
        missing = segments_missing(page.text()) if page is not None and page.status == 200 else ["(no page)"]
        if missing:
            status = page.status if page is not None else "none"
            result.findings.append(
                finding("live.app", f"/?p={post_id} ({variant})", f"HTTP {status}, page lacks {', '.join(missing)}")
            )
        else:
            result.shown.append(f"page /?p={post_id} ({variant}): every CJK segment shown")
    prefix = apps.variants[0].table_prefix
    stored = read_post(apps.mysql, prefix, post_id)
    problems = _compare(f"{prefix}posts row {post_id} (pymysql)", stored, text)
    result.findings += problems
    if stored:
        result.shown.append(
            f"pymysql {prefix}posts.post_title: {stored[0]} [{'changed' if problems else 'byte-identical'}]"
        )


def _compare(where: str, got: tuple[str, str] | None, text: str) -> list[Finding]:
    """Title and content against what was sent."""
    pairs = (("title", got[0] if got else None), ("content", got[1] if got else None))
    return [p for label, value in pairs if (p := same_text(f"{where} {label}", value, text)) is not None]


def connectivity(apps: AppStack, session: AdminSession) -> RoundTrip:
    """A CJK post through the REST API, read back through every variant and with pymysql, byte-identical."""
    result = RoundTrip()
    text = f"{CJK_TEXT} #{secrets.token_hex(3)}"
    created = create_post(session.site, text, text)
    result.post_id, result.written_via = int(created.json()["id"]), created.variant
    result.shown.append(f"sent via REST ({created.variant}): {text}")
    read_back(apps, session, result.post_id, text, result)
    return result


def failed_session(apps: AppStack, exc: ProbeFailed) -> list[Finding]:
    """Why WordPress could not be installed or logged into: its database error page first."""
    reply = site_for(apps).request("GET", "/")
    problem = db_error_finding(f"WordPress behind {apps.route.hosts[0]} ({reply.variant})", reply.answer())
    return [problem] if problem else [finding("live.app", f"WordPress behind {apps.route.hosts[0]}", str(exc))]


@dataclass
class Stored:
    """What the persistence check wrote before the restart."""

    post_id: int
    text: str
    media_path: str
    media: bytes
    uploaded_via: str


def write_for_restart(session: AdminSession) -> Stored:
    text = f"{CJK_TEXT} persist-{secrets.token_hex(3)}"
    post = create_post(session.site, text, text)
    data = tiny_png(secrets.token_hex(8).encode())
    media = upload_media(session.site, f"dbc-persist-{secrets.token_hex(4)}.png", data, "image/png")
    path = urllib.parse.urlsplit(str(media.json()["source_url"])).path
    return Stored(int(post.json()["id"]), text, path, data, media.variant)


def media_replies(apps: AppStack, session: AdminSession, stored: Stored) -> dict[str, Reply]:
    return per_variant(lambda: session.site.request("GET", stored.media_path), variants_of(apps))


def media_findings(apps: AppStack, stored: Stored, replies: dict[str, Reply], when: str) -> list[Finding]:
    """The uploading variant serves the file byte-identical (other variants mount their own volume)."""
    reply = replies.get(stored.uploaded_via)
    volume = next((v.uploads for v in apps.variants if v.variant == stored.uploaded_via), "its volume")
    if reply is None:
        return [finding("live.app", stored.media_path, f"{when}: variant {stored.uploaded_via} never answered")]
    if reply.status != 200 or reply.body != stored.media:
        return [
            finding(
                "live.app",
                stored.media_path,
                f"{when}: HTTP {reply.status} from {stored.uploaded_via}"
                f"{'' if reply.status != 200 else ', different bytes'}: the upload did not survive on {volume}",
            )
        ]
    return []
