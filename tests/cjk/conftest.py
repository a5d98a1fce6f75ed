"""Fixtures for the CJK suite's self-tests: a real PostgreSQL whose discourse database is KNOWN-BAD (its
public.config_2_gram_cjk uses the stock parser), and manifest sets carrying the real bootstrap SQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from cjk_support import BOOTSTRAP_SQL, FIXTURES, JUDGE_PASSWORD, StockParserDatabase, write_manifest_set
from postgres_farm import build_farm

from dbc_validate.labs.postgres_binaries import PgBinaries, find_pg_binaries
from dbc_validate.labs.postgres_server import start_postgres_lab
from dbc_validate.manifests.sql_statements import split_statements
from dbc_validate.progress import stderr_progress


@pytest.fixture(scope="session")
def real_manifest_set(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A manifest set whose ConfigMap holds manifests/base/databases/discourse-bootstrap.sql verbatim."""
    return write_manifest_set(tmp_path_factory.mktemp("manifests"), BOOTSTRAP_SQL.read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def postgres_without_cjk(tmp_path_factory: pytest.TempPathFactory) -> PgBinaries:
    """The machine's PostgreSQL server, made into an installation without pg_cjk_parser: the tests that need the
    extension absent hold whether or not the machine has it."""
    return build_farm(find_pg_binaries(), tmp_path_factory.mktemp("pg-without-cjk"))


@pytest.fixture(scope="session")
def stock_parser_database(postgres_without_cjk: PgBinaries) -> Iterator[StockParserDatabase]:
    """A real PostgreSQL with the KNOWN-BAD discourse database, and a password-protected role to reach it."""
    lab = start_postgres_lab(postgres_without_cjk, stderr_progress)
    try:
        lab.create_database("discourse")
        sql = (FIXTURES / "stock-parser-discourse.sql").read_text(encoding="utf-8")
        for statement in split_statements(sql):
            lab.execute(statement.text, database="discourse")
        lab.execute(f"CREATE ROLE cjk_judge LOGIN PASSWORD '{JUDGE_PASSWORD}'")
        yield StockParserDatabase(lab, lab.tcp_dsn("discourse", "cjk_judge", JUDGE_PASSWORD))
    finally:
        lab.stop()
