"""The application stack suite end to end on the local apps lab: the set passes, and each known-bad copy of it
(wrong DB password in the WordPress Deployment, latin1 MySQL server, uploads on an emptyDir) fails its criterion
with a message naming the cause."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from helpers import ROOT, criterion, run_suite

from dbc_validate.errors import MissingBinary
from dbc_validate.labs.mariadb_server import find_mariadb
from dbc_validate.labs.wordpress_php import find_wordpress

SUITE = ROOT / "suites" / "gate1" / "test_app_stack.py"
WORDPRESS = Path("apps/wordpress/wordpress.yaml")
MYSQL = Path("databases/mysql.yaml")
APP_CRITERIA = (
    "databases.mysql_healthy",
    "applications.wordpress_accessible",
    "applications.database_connectivity",
    "applications.persistent_storage",
)


def _packages_missing() -> str:
    try:
        find_mariadb()
        find_wordpress()
    except MissingBinary as exc:
        return str(exc)
    return ""


pytestmark = pytest.mark.skipif(bool(_packages_missing()), reason=_packages_missing() or "packages present")


def known_bad_copy(tmp_path: Path, file: Path, old: str, new: str) -> Path:
    """The repository's manifest set copied under tmp_path with one text edit in base/`file`."""
    copy = tmp_path / "manifests"
    shutil.copytree(ROOT / "manifests", copy)
    path = copy / "base" / file
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{file} no longer contains {old!r}: update the known-bad edit"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return copy / "overlays" / "kind"


WRONG_PASSWORD = (
    WORDPRESS,
    "            - name: WORDPRESS_DB_USER\n              value: wordpress\n",
    "            - name: WORDPRESS_DB_USER\n              value: wordpress\n"
    "            - name: WORDPRESS_DB_PASSWORD\n              value: not-the-mysql-password\n",
)
LATIN1 = (
    MYSQL,
    "            - --datadir=/var/lib/mysql/data\n",
    "            - --datadir=/var/lib/mysql/data\n            - --character-set-server=latin1\n",
)
UPLOADS_ON_EMPTYDIR = (
    WORDPRESS,
    "          persistentVolumeClaim:\n            claimName: wordpress-files\n",
    "          emptyDir: {}\n",
)


def test_the_set_passes_the_four_app_criteria_and_shows_the_cjk_round_trips(pytester):
    manifests = ROOT / "manifests" / "overlays" / "kind"
    result, report = run_suite(pytester, SUITE, "--target", "local", "--manifests", str(manifests), subprocess=True)
    result.assert_outcomes(passed=4)
    for criterion_id in APP_CRITERIA:
        entry = criterion(report, criterion_id)
        assert entry["status"] == "PASSED_BELOW_GATE" and entry["scope"] == "local", entry
    html = (pytester.path / "reports" / "gate1.html").read_text(encoding="utf-8")
    assert "越野摩托车论坛" in html and "한국어 텍스트" in html and "日本語のテキスト" in html
    assert "MariaDB 10.11 standing in for MySQL 8.x" in html


@pytest.mark.parametrize(
    ("edit", "selected", "failing", "message"),
    [
        (WRONG_PASSWORD, "cjk", "applications.database_connectivity", "Error establishing a database connection"),
        (LATIN1, "mysql", "databases.mysql_healthy", "character_set_server is latin1"),
        (UPLOADS_ON_EMPTYDIR, "survive", "applications.persistent_storage", "did not survive on emptyDir volume"),
    ],
    ids=["wrong-db-password", "latin1-server", "uploads-on-emptydir"],
)
def test_a_known_bad_copy_fails_its_criterion_with_the_cause(pytester, tmp_path, edit, selected, failing, message):
    manifests = known_bad_copy(tmp_path, *edit)
    result, report = run_suite(
        pytester, SUITE, "--target", "local", "--manifests", str(manifests), "-k", selected, subprocess=True
    )
    result.assert_outcomes(failed=1)
    entry = criterion(report, failing)
    assert entry["status"] == "FAIL", entry
    assert message in result.stdout.str(), result.stdout.str()[-3000:]
