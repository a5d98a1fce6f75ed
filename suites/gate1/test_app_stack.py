"""Gate 1 application stack: MySQL healthy, WordPress accessible through Traefik, WordPress reaching its database
(CJK post read back byte-identical), data surviving a restart. One set of checks over the `apps` capability: the
local lab (MariaDB + PHP-served WordPress from the set) or a cluster's StatefulSet and Deployments."""

from __future__ import annotations

import statistics

import pytest

from dbc_validate.analysis.app_checks import CJK_TEXT, mysql_findings
from dbc_validate.analysis.findings import brief_report
from dbc_validate.probes.app_checks import (
    RoundTrip,
    access,
    connectivity,
    failed_session,
    media_findings,
    media_replies,
    open_session,
    read_back,
    write_for_restart,
)
from dbc_validate.probes.mysql_health import observe_mysql
from dbc_validate.probes.wordpress_site import ProbeFailed


@pytest.fixture(scope="module")
def wordpress_admin(apps):
    """Install WordPress through Traefik and log in once; a failure is kept and reported by each test."""
    try:
        return open_session(apps)
    except ProbeFailed as exc:
        return exc


def _session(apps, wordpress_admin, gate1_evidence):
    if isinstance(wordpress_admin, ProbeFailed):
        findings = failed_session(apps, wordpress_admin)
        gate1_evidence.threshold(False, findings[0].message)
        pytest.fail(brief_report(findings), pytrace=False)
    gate1_evidence.note(f"WordPress {wordpress_admin.installed}")
    return wordpress_admin


@pytest.mark.gate1("databases.mysql_healthy")
def test_mysql_serves_the_application_user_in_utf8mb4(apps, gate1_evidence):
    seen = observe_mysql(apps.mysql)
    for key in ("character_set_server", "collation_server", "version"):
        gate1_evidence.measure(key, seen.variables.get(key))
    gate1_evidence.measure("database_collation", seen.database_collation or None)
    gate1_evidence.measure("innodb", seen.innodb or None)
    gate1_evidence.note(f"{apps.mysql.description}; as {apps.mysql.user}@{apps.mysql.database}")
    gate1_evidence.note(f"CJK write/read: sent {CJK_TEXT!r}, read {seen.written!r} {seen.write_error}".strip())
    gate1_evidence.note(f"root (no password) over TCP: {seen.root_without_password}")
    for note in apps.notes:
        gate1_evidence.note(note)
    findings = mysql_findings(apps.mysql.database, seen, apps.workload_problems())
    gate1_evidence.threshold(
        not findings,
        f"{seen.variables.get('character_set_server', '?')}/{seen.database_collation or '?'}, "
        f"CJK round-trip {'identical' if seen.written == CJK_TEXT else 'failed'}, {len(findings)} problem(s)",
    )
    assert not findings, brief_report(findings)


@pytest.mark.gate1("applications.wordpress_accessible")
def test_wordpress_answers_through_traefik_for_each_host_and_variant(apps, gate1_evidence):
    answers, findings = access(apps)
    by_variant: dict[str, list[float]] = {}
    for answer in answers:
        by_variant.setdefault(f"{answer.host} {answer.variant}", []).append(answer.seconds)
    for key, seconds in sorted(by_variant.items()):
        statuses = sorted({a.answer.status for a in answers if f"{a.host} {a.variant}" == key})
        gate1_evidence.measure(f"status {key}", ",".join(map(str, statuses)))
        gate1_evidence.measure(f"latency median {key}", round(statistics.median(seconds), 3), "s")
        gate1_evidence.measure(f"latency max {key}", round(max(seconds), 3), "s")
    gate1_evidence.note(f"{apps.description}; Traefik {apps.ingress.base_url}")
    gate1_evidence.threshold(not findings, f"{len(by_variant)} host/variant pair(s) answered, {len(answers)} requests")
    assert not findings, brief_report(findings)


@pytest.mark.destructive
@pytest.mark.gate1("applications.database_connectivity")
def test_wordpress_writes_and_reads_cjk_through_its_database(apps, wordpress_admin, gate1_evidence):
    session = _session(apps, wordpress_admin, gate1_evidence)
    result = connectivity(apps, session)
    gate1_evidence.measure("post_id", result.post_id)
    gate1_evidence.measure("written_via", result.written_via)
    for line in result.shown:
        gate1_evidence.note(f"CJK round-trip: {line}")
    gate1_evidence.threshold(not result.findings, f"post {result.post_id}: {len(result.findings)} difference(s)")
    assert not result.findings, brief_report(result.findings)


@pytest.mark.destructive
@pytest.mark.gate1("applications.persistent_storage")
def test_post_and_media_survive_restarting_database_and_wordpress(
    apps, wordpress_admin, gate1_evidence, gate1_progress
):
    session = _session(apps, wordpress_admin, gate1_evidence)
    stored = write_for_restart(session)
    before = media_findings(apps, stored, media_replies(apps, session, stored), "before the restart")
    assert not before, brief_report(before)
    gate1_progress(f"apps: restarting the database and {len(apps.variants)} WordPress")
    gate1_evidence.note(apps.restart())
    after = RoundTrip(stored.post_id)
    read_back(apps, session, stored.post_id, stored.text, after)
    after.findings += media_findings(apps, stored, media_replies(apps, session, stored), "after the restart")
    for variant in apps.variants:
        gate1_evidence.note(f"{variant.variant}: uploads on {variant.uploads}")
    for line in after.shown:
        gate1_evidence.note(f"after restart: {line}")
    gate1_evidence.measure("media", stored.media_path)
    gate1_evidence.measure("media_uploaded_via", stored.uploaded_via)
    gate1_evidence.threshold(
        not after.findings, f"post {stored.post_id} and {stored.media_path}: {len(after.findings)} lost"
    )
    assert not after.findings, brief_report(after.findings)
