"""The cluster `postgres` capability's shell against a real PostgreSQL standing in for the CNPG pods: every
port-forward of the recording access leads to one local lab whose discourse database is KNOWN-BAD (stock
parser), logged in with the password of the recorded-shape `<cluster>-app` Secret. No cluster runs here: this
proves the wiring (instances, credentials, DSNs, redaction) and that the CJK suite runs unchanged on the
records, not anything about CloudNativePG itself."""

from __future__ import annotations

import json
import shutil
import textwrap
from collections.abc import Iterator
from contextlib import ExitStack

import pytest
from cluster_fixtures import ROOT, RecordingAccess, obj, objs

from dbc_validate.capabilities import InstanceKind
from dbc_validate.cluster.kubectl import ClusterError
from dbc_validate.cluster.postgres_instances import cluster_postgres
from dbc_validate.errors import InputError
from dbc_validate.labs.postgres_binaries import find_pg_binaries
from dbc_validate.labs.postgres_server import PostgresLab, start_postgres_lab
from dbc_validate.manifests.model import load_manifest_set
from dbc_validate.manifests.sql_statements import split_statements
from dbc_validate.scope import Scope

KIND_OVERLAY = ROOT / "manifests" / "overlays" / "kind"
CNPG_PODS = ("cnpg_primary", "cnpg_replica_2", "cnpg_replica_3", "image_pull_backoff")
APP_PASSWORD = "app-pw-FIXTURE-7Qz"  # the password in fixtures/cluster/secrets.yaml cnpg_app
SUPERUSER_PASSWORD = "su-pw-FIXTURE-3Xk"


@pytest.fixture(scope="module")
def lab() -> Iterator[PostgresLab]:
    lab = start_postgres_lab(find_pg_binaries(), lambda line: None)
    try:
        lab.create_database("discourse")
        sql = (ROOT / "fixtures" / "cjk" / "stock-parser-discourse.sql").read_text(encoding="utf-8")
        for statement in split_statements(sql):
            lab.execute(statement.text, database="discourse")
        lab.execute(f"CREATE ROLE discourse LOGIN PASSWORD '{APP_PASSWORD}'")
        yield lab
    finally:
        lab.stop()


def _access(lab: PostgresLab, *secrets: str) -> RecordingAccess:
    return RecordingAccess(
        pods=objs("pods", *CNPG_PODS, "wordpress_ready"),
        secrets=[obj("secrets", s) for s in secrets],
        forward_to=lab.port,
        manifest_set=load_manifest_set(KIND_OVERLAY),
    )


def test_every_instance_is_reached_through_its_own_port_forward_with_the_owners_secret(lab):
    access = _access(lab, "cnpg_app", "cnpg_superuser")
    capability = cluster_postgres(access, ExitStack())
    names = [i.name for i in capability.instances]
    assert names == [f"CNPG postgres-cluster infra/postgres-cluster-{n}" for n in (1, 2, 3)]
    assert access.forwards == [("infra", f"pod/postgres-cluster-{n}", 5432) for n in (1, 2, 3)]
    for instance in capability.instances:
        assert (instance.kind, instance.scope, instance.database) == (InstanceKind.CLUSTER, Scope.CLUSTER, "discourse")
        assert instance.server_version and f"port={lab.port}" in instance.dsn
    assert capability.require_bootstrap().source.endswith("discourse-bootstrap.sql")
    assert "user discourse from Secret infra/postgres-cluster-app" in access.lines[0]
    # The lab is no standby: the server's answer wins over the replica labels, and the run says so.
    assert any("postgres-cluster-2 is labelled replica but the server says primary" in line for line in access.lines)
    everything = repr(capability) + "".join(access.lines) + json.dumps(access.versions)
    assert APP_PASSWORD not in everything and SUPERUSER_PASSWORD not in everything


def test_credentials_the_server_refuses_fail_the_capability_without_showing_them(lab):
    access = _access(lab, "cnpg_superuser")  # no app Secret: the superuser's, whose password the lab does not know
    with pytest.raises(ClusterError) as caught:
        cluster_postgres(access, ExitStack())
    message = str(caught.value)
    assert message.startswith("CNPG postgres-cluster infra/postgres-cluster-1: cannot connect")
    assert "password authentication failed" in message and SUPERUSER_PASSWORD not in message


def test_missing_instances_or_secrets_fail_and_a_set_without_cluster_is_bad_input(lab):
    short = _access(lab, "cnpg_app")
    short.pods = objs("pods", "cnpg_primary")
    with pytest.raises(ClusterError, match="1 instance pod\\(s\\) found, the Cluster declares 3"):
        cluster_postgres(short, ExitStack())
    with pytest.raises(ClusterError, match="no usable credentials for infra/postgres-cluster"):
        cluster_postgres(_access(lab), ExitStack())
    empty = _access(lab, "cnpg_app")
    empty.manifest_set = load_manifest_set(ROOT / "fixtures" / "cluster" / "manifest-set" / "00-namespaces.yaml")
    with pytest.raises(InputError, match="has no CloudNativePG Cluster"):
        cluster_postgres(empty, ExitStack())


def test_the_cjk_suite_runs_unchanged_on_every_cluster_instance(pytester: pytest.Pytester, lab) -> None:
    suites = pytester.path / "suites" / "gate1"
    suites.mkdir(parents=True)
    shutil.copy(ROOT / "suites" / "gate1" / "test_cjk_parser.py", suites)  # byte for byte
    pytester.makeconftest(
        textwrap.dedent(
            f"""
            from contextlib import ExitStack
            from pathlib import Path

            import pytest
            from cluster_fixtures import RecordingAccess, obj, objs

            from dbc_validate.cluster.postgres_instances import cluster_postgres
            from dbc_validate.manifests.model import load_manifest_set


            @pytest.fixture(scope="session")
            def postgres():
                # The cluster capability, with its port-forwards leading to the known-bad lab.
                access = RecordingAccess(
                    pods=objs("pods", *{CNPG_PODS!r}),
                    secrets=[obj("secrets", "cnpg_app")],
                    forward_to={lab.port},
                    manifest_set=load_manifest_set(Path({str(KIND_OVERLAY)!r})),
                )
                return cluster_postgres(access, ExitStack())
            """
        )
    )
    report = pytester.path / "reports" / "gate1.html"
    result = pytester.runpytest(
        "suites/gate1",
        "--target",
        "local",
        "--manifests",
        str(KIND_OVERLAY),
        "--gate1-report",
        str(report),
        "-p",
        "no:cacheprovider",
        "-rs",
    )
    result.assert_outcomes(failed=6, skipped=1)  # the property test needs the parser, which the lab lacks
    output = result.stdout.str()
    for n in (1, 2, 3):
        assert f"CNPG postgres-cluster infra/postgres-cluster-{n} (primary):" in output
    assert "extension pg_cjk_parser is not installed" in output
    assert APP_PASSWORD not in output and APP_PASSWORD not in report.with_suffix(".json").read_text(encoding="utf-8")
