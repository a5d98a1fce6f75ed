"""Judgements of the application checks (MySQL health, WordPress through Traefik, CJK round-trips, storage
across a restart): what the probes observed in, findings out. Pure; the same for the local lab and a cluster."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from dbc_validate.analysis.findings import Finding, finding
from dbc_validate.analysis.live.apps import WORDPRESS_DB_ERROR, HttpAnswer, route_findings

# Chinese (the site's own language), Japanese and Korean, plus a character outside the BMP (4-byte UTF-8):
# utf8mb3 or latin1 anywhere on the way mangles or rejects it.
CJK_TEXT = "越野摩托车论坛 中文测试 — 日本語のテキスト — 한국어 텍스트 🏍"
CJK_SEGMENTS = ("越野摩托车论坛", "中文测试", "日本語のテキスト", "한국어 텍스트")
UTF8MB4 = "utf8mb4"


@dataclass(frozen=True)
class MysqlObservation:
    """What pymysql saw as the application user."""

    connected: bool
    error: str = ""
    variables: Mapping[str, str] = field(default_factory=dict)  # character_set_server, collation_server, ...
    database_exists: bool = False
    database_charset: str = ""
    database_collation: str = ""
    innodb: str = ""  # information_schema.ENGINES.SUPPORT of InnoDB ("DEFAULT", "YES", "NO", "")
    written: str | None = None  # the CJK text as read back (None: the write failed)
    write_error: str = ""
    root_without_password: str = ""  # "refused: ..." or "accepted"


def mysql_findings(database: str, seen: MysqlObservation, workload_problems: Sequence[str] = ()) -> list[Finding]:
    subject = f"MySQL database {database!r}"
    findings = [finding("live.database", "MySQL workload", p) for p in workload_problems]
    if not seen.connected:
        return [*findings, finding("live.database", subject, f"the application user cannot connect: {seen.error}")]
    if not seen.database_exists:
        findings.append(finding("live.database", subject, "does not exist"))
    if seen.innodb not in ("DEFAULT", "YES"):
        findings.append(
            finding("live.database", subject, f"InnoDB is not available (SUPPORT={seen.innodb or 'absent'})")
        )
    server = seen.variables.get("character_set_server", "?")
    if server != UTF8MB4:
        findings.append(
            finding(
                "live.database",
                subject,
                f"character_set_server is {server} ({seen.variables.get('collation_server', '?')}), not utf8mb4: "
                "tables created without an explicit charset cannot hold CJK text",
            )
        )
    if seen.database_exists and seen.database_charset != UTF8MB4:
        findings.append(
            finding(
                "live.database",
                subject,
                f"database default charset is {seen.database_charset} ({seen.database_collation})",
            )
        )
    if seen.written is None:
        findings.append(finding("live.database", subject, f"writing CJK text failed: {seen.write_error}"))
    elif seen.written.encode() != CJK_TEXT.encode():
        findings.append(finding("live.database", subject, f"CJK text came back changed: {seen.written!r}"))
    if not seen.root_without_password.startswith("refused"):
        findings.append(finding("live.database", subject, "root logs in without a password"))
    return findings


@dataclass(frozen=True)
class TimedAnswer:
    """One answer through Traefik, with the variant its marker header named and how long it took."""

    host: str
    variant: str
    answer: HttpAnswer
    seconds: float


def is_wordpress(answer: HttpAnswer) -> bool:
    """A WordPress page: its installer (or the redirect to it), or a page referring to its own assets."""
    if answer.status in (301, 302, 303, 307, 308):
        return "/wp-admin/install.php" in answer.location or "/wp-" in answer.location or answer.location.endswith("/")
    return any(mark in answer.body for mark in ("wp-content", "wp-includes", "WordPress"))


def access_findings(host: str, declared: Sequence[str], answers: Sequence[TimedAnswer]) -> list[Finding]:
    """Every declared variant answered for `host`, each time with a WordPress page."""
    findings: list[Finding] = []
    seen = {a.variant for a in answers}
    for variant in declared:
        if variant not in seen:
            findings.append(finding("live.app", f"http://{host}/ via Traefik", f"variant {variant} never answered"))
    for a in answers:
        problems = route_findings(host, a.answer)
        if problems:
            findings += [finding("live.app", f"{p.object} ({a.variant})", p.message) for p in problems]
            break
        if not is_wordpress(a.answer):
            findings.append(
                finding("live.app", f"http://{host}/ ({a.variant})", f"HTTP {a.answer.status}: not a WordPress page")
            )
            break
    return findings


def db_error_finding(subject: str, answer: HttpAnswer) -> Finding | None:
    if WORDPRESS_DB_ERROR in answer.body:
        return finding("live.app", subject, f"HTTP {answer.status}: '{WORDPRESS_DB_ERROR}'")
    return None


def same_text(where: str, got: str | None, want: str = CJK_TEXT) -> Finding | None:
    """Byte-identical or a finding showing what came back."""
    if got is None:
        return finding("live.app", where, "the text could not be read back")
    if got.encode() != want.encode():
        return finding("live.app", where, f"came back changed: {got!r} (sent {want!r})")
    return None


def segments_missing(html: str) -> list[str]:
    """The CJK segments a rendered page does not show (the page escapes punctuation, never the letters)."""
    return [s for s in CJK_SEGMENTS if s not in html]
