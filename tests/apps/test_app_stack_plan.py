"""The pure side of the apps checks: what the set declares for MySQL and WordPress, how the lab initialises and
configures them from it, and how observations are judged."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

import dbc_validate.labs.mariadb_server as mariadb_server
from dbc_validate.analysis.app_checks import (
    CJK_TEXT,
    MysqlObservation,
    TimedAnswer,
    access_findings,
    is_wordpress,
    mysql_findings,
    segments_missing,
)
from dbc_validate.analysis.app_stack import app_stack_plan, reaches_mysql
from dbc_validate.analysis.live.apps import HttpAnswer
from dbc_validate.analysis.workload_config import container_env, volume_at
from dbc_validate.capabilities import Capability, CapabilityUnavailable
from dbc_validate.labs.app_stack import local_secret_values, minor, mysql_label
from dbc_validate.labs.mariadb_server import init_sql, server_charset
from dbc_validate.labs.wordpress_php import wp_config
from dbc_validate.manifests.model import K8sObject
from dbc_validate.manifests.traefik_routes import http_routes
from dbc_validate.settings import Settings
from dbc_validate.targets.local import LocalTarget

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def plan(kind_set):
    return app_stack_plan(kind_set, http_routes(kind_set), local_secret_values(kind_set, ROOT))


def test_the_set_declares_two_variants_sharing_one_mysql_with_one_generated_password(plan):
    assert [(w.variant, w.service) for w in plan.wordpress] == [
        ("prod", "prod/wordpress"),
        ("stage", "stage/wordpress"),
    ]
    mysql = plan.mysql
    assert (mysql.workload, mysql.database, mysql.user, mysql.root_host) == (
        "StatefulSet/infra/mysql",
        "wordpress",
        "wordpress",
        "localhost",
    )
    assert len(mysql.password) >= 16 and mysql.password != mysql.root_password
    assert all(w.db_password == mysql.password and reaches_mysql(w, mysql) for w in plan.wordpress)
    assert all(len(w.keys) == 8 for w in plan.wordpress)
    assert mysql.charset is None and mysql.data.persistent
    assert [w.uploads.key for w in plan.wordpress] == ["pvc prod/wordpress-files", "pvc stage/wordpress-files"]
    assert "password" not in repr(mysql).lower().replace("root_host", "")


def _pod(containers, volumes=(), kind="Deployment", templates=()):
    body = {
        "metadata": {"name": "w", "namespace": "ns"},
        "spec": {
            "template": {"spec": {"containers": list(containers), "volumes": list(volumes)}},
            "volumeClaimTemplates": [{"metadata": {"name": t}} for t in templates],
        },
    }
    return K8sObject("apps/v1", kind, "w", "ns", body)


def test_env_wins_over_env_from_and_a_missing_secret_key_is_left_out():
    container = {
        "envFrom": [{"secretRef": {"name": "s"}}],
        "env": [
            {"name": "A", "value": "from env"},
            {"name": "B", "valueFrom": {"secretKeyRef": {"name": "s", "key": "b"}}},
            {"name": "C", "valueFrom": {"secretKeyRef": {"name": "s", "key": "absent"}}},
        ],
    }
    env = container_env(container, "ns", {"ns/s": {"A": "from secret", "b": "bee"}})
    assert env == {"A": "from env", "b": "bee", "B": "bee"}


def test_the_deepest_mount_decides_whether_a_path_survives_a_restart():
    container = {
        "volumeMounts": [
            {"name": "root", "mountPath": "/var/www/html"},
            {"name": "up", "mountPath": "/var/www/html/wp-content/uploads"},
        ]
    }
    claim = {"name": "root", "persistentVolumeClaim": {"claimName": "files"}}
    on_empty = volume_at(
        _pod([container], [claim, {"name": "up", "emptyDir": {}}]), container, "/var/www/html/wp-content/uploads"
    )
    assert not on_empty.persistent and "emptyDir" in on_empty.description
    on_claim = volume_at(
        _pod([container], [claim, {"name": "up", "persistentVolumeClaim": {"claimName": "u"}}]),
        container,
        "/var/www/html/wp-content/uploads/2026",
    )
    assert on_claim.persistent and on_claim.key == "pvc ns/u"
    bare = volume_at(_pod([{}]), {}, "/var/lib/mysql")
    assert not bare.persistent
    template = volume_at(
        _pod(
            [{"volumeMounts": [{"name": "data", "mountPath": "/var/lib/mysql"}]}],
            kind="StatefulSet",
            templates=["data"],
        ),
        {"volumeMounts": [{"name": "data", "mountPath": "/var/lib/mysql"}]},
        "/var/lib/mysql/data",
    )
    assert template.persistent and template.key == "pvc ns/data-w"


def test_the_server_charset_follows_the_args_else_the_image_default(plan):
    assert server_charset(plan.mysql) == ("utf8mb4", "utf8mb4_unicode_ci")  # MySQL 8's 0900 collation, mapped
    assert server_charset(replace(plan.mysql, charset="latin1")) == ("latin1", "latin1_swedish_ci")
    assert server_charset(replace(plan.mysql, image="mysql:5.7")) == ("latin1", "latin1_swedish_ci")
    assert server_charset(replace(plan.mysql, charset="utf8mb4", collation="utf8mb4_bin")) == ("utf8mb4", "utf8mb4_bin")


def test_init_sql_is_one_quoted_statement_per_line_and_leaves_the_charset_to_the_server(plan):
    sql = init_sql(replace(plan.mysql, password="it's a \\ pass"))
    lines = sql.strip().splitlines()
    assert lines[0] == "FLUSH PRIVILEGES;" and all(line.endswith(";") for line in lines)
    assert "IDENTIFIED BY 'it\\'s a \\\\ pass'" in sql
    assert "CREATE DATABASE IF NOT EXISTS `wordpress`;" in lines
    assert "'root'@'%'" not in sql  # MYSQL_ROOT_HOST=localhost: root only from inside the pod
    assert "'root'@'%'" in init_sql(replace(plan.mysql, root_host="%"))


def test_wp_config_takes_the_deployment_env_with_php_quoting(plan, tmp_path):
    site = replace(plan.wordpress[0], db_password="a'b\\c", table_prefix="dbc_")
    text = wp_config(site, "127.0.0.1:3307", tmp_path, dict.fromkeys(site.keys, "k"))
    assert "define('DB_PASSWORD', 'a\\'b\\\\c');" in text
    assert "define('DB_HOST', '127.0.0.1:3307');" in text and "$table_prefix = 'dbc_';" in text


HEALTHY = MysqlObservation(
    True,
    variables={"character_set_server": "utf8mb4", "collation_server": "utf8mb4_unicode_ci"},
    database_exists=True,
    database_charset="utf8mb4",
    database_collation="utf8mb4_unicode_ci",
    innodb="DEFAULT",
    written=CJK_TEXT,
    root_without_password="refused: (1045) Access denied",
)


def test_mysql_findings_name_each_problem():
    assert mysql_findings("wordpress", HEALTHY) == []
    latin1 = replace(HEALTHY, variables={"character_set_server": "latin1"}, written=None, write_error="(1366) x")
    messages = [f.message for f in mysql_findings("wordpress", latin1)]
    assert any("character_set_server is latin1" in m for m in messages) and any("(1366)" in m for m in messages)
    assert [f.message for f in mysql_findings("wordpress", replace(HEALTHY, root_without_password="accepted"))] == [
        "root logs in without a password"
    ]
    changed = mysql_findings("wordpress", replace(HEALTHY, written=CJK_TEXT.replace("🏍", "?")))
    assert "came back changed" in changed[0].message
    down = mysql_findings("wordpress", MysqlObservation(False, "(1045) denied"), ["Pod/infra/mysql-0 not Ready"])
    assert [f.message for f in down] == [
        "Pod/infra/mysql-0 not Ready",
        "the application user cannot connect: (1045) denied",
    ]


def _answer(variant, status=302, body="", location="http://h/wp-admin/install.php"):
    return TimedAnswer("h", variant, HttpAnswer(status, body, location), 0.01)


def test_access_needs_every_variant_answering_with_a_wordpress_page():
    assert access_findings("h", ["prod", "stage"], [_answer("prod"), _answer("stage")]) == []
    assert "variant stage never answered" in access_findings("h", ["prod", "stage"], [_answer("prod")])[0].message
    no_route = access_findings("h", ["prod"], [_answer("prod", 404, "404 page not found", "")])
    assert "no route" in no_route[0].message
    assert "not a WordPress page" in access_findings("h", ["prod"], [_answer("prod", 200, "hello", "")])[0].message
    assert is_wordpress(HttpAnswer(200, '<link href="/wp-content/themes/x.css">'))
    assert segments_missing("越野摩托车论坛 中文测试 日本語のテキスト") == ["한국어 텍스트"]


def test_missing_packages_make_the_capability_unavailable_with_the_apt_command(monkeypatch, tmp_path):
    monkeypatch.setattr(mariadb_server.shutil, "which", lambda name: None)
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))  # any lab folder would show up here
    target = LocalTarget(Settings(root=ROOT, target="local"), lambda line: None)
    with pytest.raises(CapabilityUnavailable) as caught:
        target.provide(Capability.APPS)
    target.stop()
    assert "apt-get install mariadb-server php-cli php-mysql wordpress wordpress-theme-twentytwentythree" in str(
        caught.value
    )
    assert not list(tmp_path.glob("dbc-apps-*"))


def test_the_lab_names_what_it_stands_in_for():
    assert mysql_label("mysql:8.4.6") == "MySQL 8.x"
    assert mysql_label("docker.io/library/mariadb:11.4@sha256:0") == "MariaDB 11.x"
    assert mysql_label("mysql") == "MySQL" and minor("10.11.18") == "10.11"
