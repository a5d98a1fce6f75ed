"""Reading the bootstrap SQL (pure): statements, declared mappings, which failures a missing extension explains."""

from __future__ import annotations

import pytest
from cjk_support import BOOTSTRAP_SQL, FIXTURES

from dbc_validate.analysis.bootstrap_sql import StatementFailure, created_extension, declared_mappings, sort_failures
from dbc_validate.manifests.sql_statements import SqlStatement, split_statements

# The mappings huangjimmy/pg_cjk_parser's README gives for public.config_2_gram_cjk.
UPSTREAM_SIMPLE = [
    "asciihword",
    "cjk",
    "email",
    "entity",
    "file",
    "float",
    "host",
    "hword",
    "hword_asciipart",
    "hword_numpart",
    "hword_part",
    "int",
    "numhword",
    "numword",
    "protocol",
    "sfloat",
    "tag",
    "uint",
    "url",
    "url_path",
    "version",
    "word",
]


def test_statements_split_on_top_level_semicolons_only() -> None:
    sql = """-- leading comment; not a statement
CREATE EXTENSION IF NOT EXISTS hstore;
SELECT 'a;b', "odd;name", E'it\\'s;' /* c; d */ ;
DO $$ BEGIN PERFORM 1; PERFORM 2; END $$;
DO $body$ BEGIN RAISE NOTICE 'x;y'; END $body$;
SELECT $1, a$b$c FROM t  -- tail without semicolon
"""
    statements = split_statements(sql, "test.sql")
    assert [s.text.split()[0] for s in statements] == ["CREATE", "SELECT", "DO", "DO", "SELECT"]
    assert [s.line for s in statements] == [2, 3, 4, 5, 6]
    assert statements[2].text == "DO $$ BEGIN PERFORM 1; PERFORM 2; END $$"
    assert statements[0].where == "test.sql line 2"


@pytest.mark.parametrize("sql", ["SELECT 'open", "DO $$ BEGIN", "SELECT 1 /* never closed"])
def test_unterminated_literals_are_errors(sql: str) -> None:
    with pytest.raises(ValueError, match="unterminated"):
        split_statements(sql)


def test_the_real_bootstrap_declares_the_upstream_mappings() -> None:
    statements = split_statements(BOOTSTRAP_SQL.read_text(encoding="utf-8"))
    declared = declared_mappings(statements)
    assert declared == {**{t: ("simple",) for t in UPSTREAM_SIMPLE}, "asciiword": ("english_stem",)}
    assert [created_extension(s) for s in statements if created_extension(s)] == ["hstore", "pg_trgm", "pg_cjk_parser"]


def test_the_known_bad_fixture_declares_no_cjk_mapping() -> None:
    declared = declared_mappings(split_statements((FIXTURES / "stock-parser-discourse.sql").read_text()))
    assert "cjk" not in declared and declared["word"] == ("simple",)


def test_alter_and_drop_mapping_and_other_configurations() -> None:
    sql = """
    ALTER TEXT SEARCH CONFIGURATION config_2_gram_cjk ADD MAPPING FOR word, cjk WITH pg_catalog.simple;
    ALTER TEXT SEARCH CONFIGURATION public.config_2_gram_cjk ALTER MAPPING FOR word WITH english_stem, simple;
    ALTER TEXT SEARCH CONFIGURATION public.config_2_gram_cjk DROP MAPPING IF EXISTS FOR cjk;
    ALTER TEXT SEARCH CONFIGURATION public.other ADD MAPPING FOR int WITH simple;
    """
    assert declared_mappings(split_statements(sql)) == {"word": ("english_stem", "simple")}


def _failure(sql: str, state: str | None, message: str = "boom") -> StatementFailure:
    return StatementFailure(SqlStatement(sql, 1, "cm"), state, message)


def test_a_missing_extension_explains_its_create_and_later_undefined_objects() -> None:
    failures = [
        _failure("CREATE EXTENSION IF NOT EXISTS pg_cjk_parser", "0A000", 'extension "pg_cjk_parser" is not available'),
        _failure("DO $$ ... CREATE TEXT SEARCH PARSER ... $$", "42883", "function prsd2_cjk_start does not exist"),
    ]
    result = sort_failures(failures, available_extensions=["hstore", "pg_trgm"])
    assert dict(result.missing_extensions) == {"pg_cjk_parser": 'extension "pg_cjk_parser" is not available'}
    assert [f.sqlstate for f in result.consequences] == ["42883"] and result.errors == ()


@pytest.mark.parametrize(
    ("failures", "available"),
    [
        ([_failure("CREATE TABEL broken (id int)", "42601")], []),  # a typo
        ([_failure("CREATE EXTENSION hstore", "42501", "permission denied")], ["hstore"]),  # available, still failed
        ([_failure("DO $$ ... $$", "42883")], []),  # undefined object, but no extension is missing
        (
            [_failure("CREATE EXTENSION pg_cjk_parser", "0A000"), _failure("SELECT 1/0", "22012")],
            [],
        ),  # unrelated error after a missing extension
    ],
)
def test_everything_else_stays_a_real_error(failures: list[StatementFailure], available: list[str]) -> None:
    assert sort_failures(failures, available).errors == (failures[-1],)
