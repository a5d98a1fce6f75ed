"""The `postgres` capability on the local target, with a real PostgreSQL: the lab (started, bootstrapped from the
manifest set, removed), existing databases from --postgres-dsn, and the errors a user can act on."""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path

import psycopg
import pytest
from cjk_support import FIXTURES, JUDGE_PASSWORD, StockParserDatabase
from psycopg.conninfo import conninfo_to_dict

from dbc_validate.capabilities import Capability, InstanceKind, PostgresInstance
from dbc_validate.errors import InputError, MissingBinary
from dbc_validate.labs.postgres_binaries import PgBinaries, find_pg_binaries
from dbc_validate.labs.postgres_bootstrap import BootstrapSqlError, apply_bootstrap
from dbc_validate.labs.postgres_server import PostgresLab, start_postgres_lab
from dbc_validate.manifests.cnpg_bootstrap import find_bootstrap_sql
from dbc_validate.manifests.model import load_manifest_set
from dbc_validate.options import SPECS
from dbc_validate.scope import Scope
from dbc_validate.settings import Settings
from dbc_validate.targets.local import LocalTarget
from dbc_validate.targets.postgres_capability import describe_dsn


def local_target(root: Path, manifests: Path | None, **fields: object) -> LocalTarget:
    settings = Settings(root=root, target="local", manifests=manifests, **fields)  # type: ignore[arg-type]
    return LocalTarget(settings, progress=lambda message: None)


def test_the_local_target_offers_postgres_at_local_scope(tmp_path: Path) -> None:
    target = local_target(tmp_path, None)
    assert target.capability_scopes()[Capability.POSTGRES] is Scope.LOCAL
    assert Capability.POSTGRES in target.providers()
    assert {"--postgres-dsn", "--postgres-image", "--postgres-bin"} <= {s.flag for s in SPECS}
    assert next(s for s in SPECS if s.flag == "--postgres-dsn").repeatable


def test_a_lab_starts_and_leaves_nothing_behind() -> None:
    lab = start_postgres_lab(find_pg_binaries(), progress=lambda message: None)
    lab.create_database("discourse")
    with psycopg.connect(lab.dsn("discourse")) as conn:
        encoding, ctype = conn.execute(
            "SELECT current_setting('server_encoding'), current_setting('lc_ctype')"
        ).fetchone()
    assert (encoding, ctype) == ("UTF8", "C")  # what CloudNativePG's initdb gives
    lab.stop()
    assert not lab.directory.exists()
    assert not lab.process.alive()


def test_the_real_bootstrap_records_the_missing_parser_and_applies_the_rest(
    stock_parser_database: StockParserDatabase, real_manifest_set: Path
) -> None:
    lab = stock_parser_database.lab
    lab.create_database("bootstrap_probe")
    bootstrap = find_bootstrap_sql(load_manifest_set(real_manifest_set))
    with psycopg.connect(lab.dsn("bootstrap_probe"), autocommit=True) as conn:
        report = apply_bootstrap(conn, bootstrap)
        extensions = {row[0] for row in conn.execute("SELECT extname FROM pg_extension")}
    assert set(report.missing_extensions) == {"pg_cjk_parser"}
    assert report.lacks("pg_cjk_parser") == 'extension "pg_cjk_parser" is not available'
    assert [f.sqlstate for f in report.consequences] == ["42883"]  # CREATE TEXT SEARCH PARSER on its functions
    assert report.applied == report.statements - 2
    assert {"hstore", "pg_trgm"} <= extensions


def test_a_real_sql_error_in_the_bootstrap_is_raised_not_hidden(stock_parser_database: StockParserDatabase) -> None:
    lab = stock_parser_database.lab
    lab.create_database("bad_sql_probe")
    bootstrap = find_bootstrap_sql(load_manifest_set(FIXTURES / "manifests" / "bad-sql"))
    with psycopg.connect(lab.dsn("bad_sql_probe"), autocommit=True) as conn, pytest.raises(BootstrapSqlError) as caught:
        apply_bootstrap(conn, bootstrap)
    message = str(caught.value)
    assert "line 3: CREATE TABEL broken (id int): syntax error" in message and "[42601]" in message
    assert "pg_cjk_parser" not in message  # the missing extension is not the error


def test_a_dsn_is_described_without_its_password() -> None:
    name = describe_dsn(1, f"postgresql://judge:{JUDGE_PASSWORD}@db.example:6432/discourse")
    assert name == "dsn #1 judge@db.example:6432/discourse"
    assert describe_dsn(2, f"host=/run/pg user=u password={JUDGE_PASSWORD} dbname=discourse") == (
        "dsn #2 u@/run/pg:5432/discourse"
    )
    with pytest.raises(InputError) as caught:
        describe_dsn(3, f"host=x password={JUDGE_PASSWORD} this is not a dsn")
    assert JUDGE_PASSWORD not in str(caught.value) and "#3" in str(caught.value)


def test_dsn_instances_are_checked_as_they_are(stock_parser_database: StockParserDatabase, tmp_path: Path) -> None:
    target = local_target(tmp_path, tmp_path / "no-manifests", postgres_dsns=(stock_parser_database.dsn,))
    with ExitStack() as stack:
        capability = target.providers()[Capability.POSTGRES](stack)
    (instance,) = capability.instances
    assert (instance.kind, instance.role, instance.scope, instance.database) == (
        InstanceKind.DSN,
        "primary",
        Scope.LOCAL,
        "discourse",
    )
    assert instance.bootstrap is None  # nothing applied to an existing database
    assert JUDGE_PASSWORD not in repr(capability) + str(instance) + repr(target.versions)
    with pytest.raises(InputError, match="does not exist"):  # no manifests: only the mapping check needs them
        capability.require_bootstrap()


def test_an_unreachable_dsn_is_an_input_error_without_the_password(tmp_path: Path) -> None:
    instance = PostgresInstance(
        "dsn #1 x", f"postgresql://u:{JUDGE_PASSWORD}@127.0.0.1:1/db", "primary", Scope.LOCAL, InstanceKind.DSN
    )
    with pytest.raises(InputError) as caught:
        instance.connect(timeout_s=2)
    assert "cannot connect to dsn #1 x" in str(caught.value) and JUDGE_PASSWORD not in str(caught.value)


def test_the_lab_capability_is_bootstrapped_from_the_manifest_set_and_removed(
    real_manifest_set: Path, tmp_path: Path, postgres_without_cjk: PgBinaries
) -> None:
    messages: list[str] = []
    settings = Settings(
        root=tmp_path,
        target="local",
        manifests=real_manifest_set,
        postgres_bin=postgres_without_cjk.bindir,
    )
    target = LocalTarget(settings, messages.append)
    with ExitStack() as stack:
        capability = target.providers()[Capability.POSTGRES](stack)
        (instance,) = capability.instances
        assert instance.kind is InstanceKind.LAB and instance.role == "primary" and instance.database == "discourse"
        assert instance.bootstrap is not None and instance.bootstrap.lacks("pg_cjk_parser")
        assert capability.require_bootstrap().source.startswith("Cluster/infra/postgres-cluster")
        lab_directory = Path(conninfo_to_dict(instance.dsn)["host"]).parent
        assert lab_directory.is_dir()
    assert not lab_directory.exists()
    assert any(m.startswith("postgres lab: starting PostgreSQL") for m in messages)
    assert any("cannot create extension(s) pg_cjk_parser" in m for m in messages)


def test_an_interrupted_start_leaves_nothing_behind(monkeypatch: pytest.MonkeyPatch) -> None:
    import dbc_validate.labs.postgres_server as server

    started: list[PostgresLab] = []

    def interrupt(lab: PostgresLab, timeout_s: float) -> None:
        started.append(lab)
        raise KeyboardInterrupt  # Ctrl-C while the server is starting

    monkeypatch.setattr(server, "_wait_until_accepting", interrupt)
    with pytest.raises(KeyboardInterrupt):
        server.start_postgres_lab(find_pg_binaries(), progress=lambda message: None)
    (lab,) = started
    assert not lab.process.alive() and not lab.directory.exists()


def test_a_broken_chain_stops_before_a_lab_starts(tmp_path: Path) -> None:
    messages: list[str] = []
    target = LocalTarget(
        Settings(root=tmp_path, target="local", manifests=FIXTURES / "manifests" / "missing-key"), messages.append
    )
    with ExitStack() as stack, pytest.raises(InputError, match="no SQL under key"):
        target.providers()[Capability.POSTGRES](stack)
    assert messages == []


def test_postgres_bin_and_postgres_image_errors_say_what_to_do(
    real_manifest_set: Path, tmp_path: Path, no_container_engine: None
) -> None:
    with ExitStack() as stack, pytest.raises(MissingBinary, match=r"--postgres-bin .* has no initdb"):
        local_target(tmp_path, real_manifest_set, postgres_bin=tmp_path).providers()[Capability.POSTGRES](stack)
    with ExitStack() as stack, pytest.raises(MissingBinary) as caught:
        image = local_target(tmp_path, real_manifest_set, postgres_image="dirtbikechina/postgres:15-cjk")
        image.providers()[Capability.POSTGRES](stack)
    assert "needs a container engine" in str(caught.value) and "--postgres-dsn" in str(caught.value)
