"""The deploy-time secrets declaration: the parser refuses known-bad files, the harness finds the file above a
manifest set, and on the real `manifests/deploy-time-secrets.yaml` the kind/k3d plan generates exactly the
declared Secrets, one value per value name (both sides of the WordPress database password agree)."""

from __future__ import annotations

import dataclasses
import itertools
from pathlib import Path

import pytest
from overlay_checks import MANIFESTS, ROOT

from dbc_validate.analysis.live.secrets import SecretPlan, generate_values, secret_plan, shared_values
from dbc_validate.errors import InputError
from dbc_validate.manifests.deploy_time_secrets import (
    DeployTimeSecrets,
    find_deploy_time_secrets,
    load_deploy_time_secrets,
    parse_deploy_time_secrets,
)
from dbc_validate.manifests.model import ManifestSet

REAL_TEXT = (MANIFESTS / "deploy-time-secrets.yaml").read_text(encoding="utf-8")
WORDPRESS_KEYS = {
    "WORDPRESS_DB_PASSWORD",
    *(f"WORDPRESS_{what}_{kind}" for what in ("AUTH", "SECURE_AUTH", "LOGGED_IN", "NONCE") for kind in ("KEY", "SALT")),
}
SALTS = sorted(WORDPRESS_KEYS - {"WORDPRESS_DB_PASSWORD"})


def _counter_token():
    counter = itertools.count()
    return lambda n: f"t{next(counter)}".ljust(n, "x")


@pytest.fixture(scope="module")
def declared() -> DeployTimeSecrets:
    found = load_deploy_time_secrets(MANIFESTS / "overlays" / "kind", ROOT)
    assert found is not None
    return found


def _plan(overlay_sets: dict[str, ManifestSet], overlay: str) -> SecretPlan:
    ms = overlay_sets[overlay]
    return secret_plan(ms, load_deploy_time_secrets(ms.source, ROOT), overlay)


# ---- on the real file --------------------------------------------------------------------------------------


@pytest.mark.parametrize("overlay", ["kind", "k3d"])
def test_test_cluster_plan_is_the_declared_secrets_with_all_nine_wordpress_keys(overlay, overlay_sets):
    plan = _plan(overlay_sets, overlay)
    specs = {s.ref: s for s in plan.specs}
    assert set(specs) == {"infra/mysql", "prod/wordpress", "stage/wordpress"}
    assert plan.undeclared == ()
    assert plan.basis == f"declared in manifests/deploy-time-secrets.yaml for overlay {overlay}"
    for ref in ("prod/wordpress", "stage/wordpress"):
        assert set(specs[ref].keys) == WORDPRESS_KEYS and len(WORDPRESS_KEYS) == 9
    assert specs["infra/mysql"].keys == ("password", "root-password")


@pytest.mark.parametrize("overlay", ["kind", "k3d"])
def test_one_value_per_value_name_mysql_and_wordpress_agree_salts_shared_by_prod_and_stage(overlay, overlay_sets):
    plan = _plan(overlay_sets, overlay)
    values = generate_values(plan.specs, _counter_token())
    mysql, prod, stage = values["infra/mysql"], values["prod/wordpress"], values["stage/wordpress"]
    assert mysql["password"] == prod["WORDPRESS_DB_PASSWORD"] == stage["WORDPRESS_DB_PASSWORD"]
    assert mysql["root-password"] != mysql["password"]
    assert all(prod[key] == stage[key] for key in SALTS)
    # Ten value names are used (root, the DB password, eight keys and salts): ten distinct random strings.
    used = {v for kv in values.values() for v in kv.values()}
    assert len(used) == 10 and all(len(v) == 24 for v in used)
    assert shared_values(plan.specs)["wordpress-db-password"] == [
        "infra/mysql.password",
        "prod/wordpress.WORDPRESS_DB_PASSWORD",
        "stage/wordpress.WORDPRESS_DB_PASSWORD",
    ]


def test_nothing_prod_only_or_operator_supplied_is_generated_on_a_test_cluster(declared, overlay_sets):
    plan = _plan(overlay_sets, "kind")
    names = {name for s in plan.specs for name in s.value_names.values()}
    assert all(declared.values[n].generated for n in names)
    assert "infra/postgres-backup-s3" not in {s.ref for s in plan.specs}
    assert {"backup-s3-access-key-id", "backup-s3-secret-access-key"}.isdisjoint(names)
    assert "infra/postgres-backup-s3" in {s.ref for s in declared.for_overlay("prod")}


def test_a_secret_missing_from_the_declaration_is_reported_not_guessed(declared, overlay_sets):
    without_stage = dataclasses.replace(
        declared, secrets=tuple(s for s in declared.secrets if s.ref != "stage/wordpress")
    )
    plan = secret_plan(overlay_sets["kind"], without_stage, "kind")
    assert "stage/wordpress" not in {s.ref for s in plan.specs}
    assert [str(u) for u in plan.undeclared] == ["stage/wordpress (used by Deployment/stage/wordpress-blue)"]
    no_root = dataclasses.replace(
        declared,
        secrets=tuple(
            dataclasses.replace(s, data={"password": "wordpress-db-password"}) if s.ref == "infra/mysql" else s
            for s in declared.secrets
        ),
    )
    missing = secret_plan(overlay_sets["kind"], no_root, "kind").undeclared
    assert [str(u) for u in missing] == ["keys root-password of infra/mysql (used by StatefulSet/infra/mysql)"]


# ---- finding the file ---------------------------------------------------------------------------------------


def test_the_file_is_found_above_each_overlay_and_not_above_a_set_elsewhere_in_the_project():
    expected = MANIFESTS / "deploy-time-secrets.yaml"
    for overlay in ("kind", "k3d", "prod"):
        assert find_deploy_time_secrets(MANIFESTS / "overlays" / overlay, ROOT) == expected
    assert find_deploy_time_secrets(MANIFESTS / "overlays" / "kind" / "kustomization.yaml", ROOT) == expected
    assert find_deploy_time_secrets(ROOT / "fixtures" / "cluster" / "manifest-set", ROOT) is None


def test_the_walk_stops_at_the_project_root(tmp_path: Path):
    (tmp_path / "deploy-time-secrets.yaml").write_text(REAL_TEXT, encoding="utf-8")  # above the project
    project = tmp_path / "project"
    (project / "set").mkdir(parents=True)
    assert find_deploy_time_secrets(project / "set", project) is None
    (project / "deploy-time-secrets.yaml").write_text(REAL_TEXT, encoding="utf-8")
    assert find_deploy_time_secrets(project / "set", project) == project / "deploy-time-secrets.yaml"


# ---- known-bad files ----------------------------------------------------------------------------------------


def test_the_real_file_parses():
    parsed = parse_deploy_time_secrets(REAL_TEXT, "deploy-time-secrets.yaml")
    assert len(parsed.secrets) == 4 and len(parsed.values) == 12


@pytest.mark.parametrize(
    ("old", "new", "problem", "fix"),
    [
        (
            "      password: wordpress-db-password",
            "      password: wordpress-db-pasword",
            "secrets[0] (infra/mysql) key password names value 'wordpress-db-pasword', which `values` does not",
            "declare 'wordpress-db-pasword' under `values`",
        ),
        (
            "    name: wordpress\n    overlays: [kind, k3d, prod]\n    data: &wordpress",
            "    name: wordpress\n    overlays: kind\n    data: &wordpress",
            "secrets[1] (prod/wordpress) overlays is not a list of overlay names (got 'kind')",
            "overlays: [kind, k3d, prod]",
        ),
        (
            "    name: postgres-backup-s3\n    overlays: [prod]",
            "    name: postgres-backup-s3\n    overlays: [kind, prod]",
            "key ACCESS_KEY_ID needs value 'backup-s3-access-key-id', which is not generated: the harness cannot "
            "provide it on a kind test cluster",
            "drop kind from the secret's overlays",
        ),
        (
            "  - namespace: stage\n    name: wordpress",
            "  - namespace: prod\n    name: wordpress",
            "secret prod/wordpress is declared twice for overlay(s) k3d, kind, prod (secrets[1] and secrets[2])",
            "merge the two entries",
        ),
        (
            "  mysql-root-password: {generated: true,",
            "  mysql-root-password: {generated: yes please,",
            "value 'mysql-root-password' does not say whether it is generated",
            "generated: true",
        ),
        (
            "    data:\n      root-password:",
            "    date:\n      root-password:",
            "secrets[0] (infra/mysql) has unknown field(s) date",
            "namespace, name, overlays, data",
        ),
        ("secrets:\n", "secrets:\n  - [", "is not valid YAML at line", "correct the YAML"),
    ],
)
def test_known_bad_files_are_refused_naming_the_entry_and_the_fix(old, new, problem, fix):
    assert old in REAL_TEXT
    with pytest.raises(InputError) as caught:
        parse_deploy_time_secrets(REAL_TEXT.replace(old, new, 1), "manifests/deploy-time-secrets.yaml")
    assert caught.value.problem.startswith("manifests/deploy-time-secrets.yaml")
    assert problem in caught.value.problem and fix in caught.value.fix


def test_the_same_secret_for_disjoint_overlays_is_accepted():
    stage = "  - namespace: stage\n    name: wordpress\n    overlays: [kind, k3d, prod]"
    text = REAL_TEXT.replace(stage, "  - namespace: prod\n    name: wordpress\n    overlays: [staging]", 1)
    parsed = parse_deploy_time_secrets(text, "f")
    assert [s.overlays for s in parsed.secrets if s.ref == "prod/wordpress"] == [("kind", "k3d", "prod"), ("staging",)]


@pytest.mark.parametrize("text", ["", "- a list\n", "values: []\nsecrets: []\n", "values: {a: {generated: true}}\n"])
def test_files_without_values_and_a_secrets_list_are_refused(text):
    with pytest.raises(InputError):
        parse_deploy_time_secrets(text, "f")
    assert parse_deploy_time_secrets("values: {}\nsecrets: []\n", "f").secrets == ()  # a set that needs none
