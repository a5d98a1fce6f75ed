"""The SQL probes on a real PostgreSQL whose configuration uses the STOCK parser: each probe reports what the
database does (ASCII controls prove the machinery works) and the CJK answers are the known-bad ones."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest
from cjk_support import StockParserDatabase

from dbc_validate.analysis.cjk_catalog import catalog_problems
from dbc_validate.analysis.cjk_oracle import judge_headline
from dbc_validate.probes.cjk_search import (
    PROBE_TABLE,
    describe_tokens,
    explain_search,
    headline,
    is_read_only,
    probe_gin_index,
    read_catalog,
    read_mappings,
    search,
    smoke,
    ts_debug,
)

SEED = "Doraemnon Nobita「ドラえもん のび太の牧場物語」多拉A梦 野比大雄χΨψΩω"


@pytest.fixture(scope="module")
def conn(stock_parser_database: StockParserDatabase) -> Iterator[psycopg.Connection]:
    with psycopg.connect(stock_parser_database.dsn, autocommit=True) as connection:
        yield connection


def test_the_catalog_shows_a_configuration_on_the_stock_parser(conn: psycopg.Connection) -> None:
    catalog = read_catalog(conn)
    assert (catalog.database, catalog.extension_version, catalog.parser_functions) == ("discourse", None, ())
    assert catalog.configuration_parser == "pg_catalog.default"
    assert catalog.database_default == catalog.session_default == "public.config_2_gram_cjk"
    assert len(catalog_problems(catalog)) == 3
    mappings = read_mappings(conn)
    assert mappings["asciiword"] == ("english_stem",) and "cjk" not in mappings


def test_smoke_queries_are_false_on_the_stock_parser(conn: psycopg.Connection) -> None:
    assert smoke(conn, SEED, ["のび太", "野比大雄", "Doraemnon"]) == [False, False, True]


def test_search_answers_each_pair_in_order(conn: psycopg.Connection) -> None:
    pairs = [(SEED, "doraemnon"), (SEED, "のび太"), ("Honda CRF450R", "crf450r"), ("野比大雄", "野比大雄")]
    assert search(conn, pairs) == [True, False, True, True]
    assert search(conn, [("enduro trail report", "trail report"), ("trail enduro", "enduro trail")], phrase=True) == [
        True,
        False,
    ]


def test_ts_debug_tokens_explain_what_the_database_made_of_the_text(conn: psycopg.Connection) -> None:
    tokens = ts_debug(conn, "Nobita のび太の牧場")
    assert [(t.alias, t.token) for t in tokens] == [("asciiword", "Nobita"), ("blank", " "), ("word", "のび太の牧場")]
    assert describe_tokens(tokens) == "asciiword 'Nobita' -> {nobita}; word 'のび太の牧場' -> {のび太の牧場}"
    explanation = explain_search(conn, "のび太の牧場", "のび太")
    assert "document tokens: word 'のび太の牧場'" in explanation and "plainto_tsquery: 'のび太'" in explanation


def test_the_index_probe_uses_the_gin_index_and_leaves_no_table(conn: psycopg.Connection) -> None:
    documents = [("seed", SEED), ("other", "越野摩托车新手入门")]
    ascii_probe = probe_gin_index(conn, documents, "Doraemnon")
    assert ascii_probe.usable and ascii_probe.found == ("seed",)  # the machinery works for what the parser splits
    assert "Bitmap Index Scan using dbc_cjk_probe_fts" in ascii_probe.plan
    cjk_probe = probe_gin_index(conn, documents, "のび太")
    assert cjk_probe.usable and cjk_probe.found == ()  # the stock parser cannot find a CJK run
    assert conn.execute("SELECT to_regclass(%s)", [PROBE_TABLE]).fetchone() == (None,)


def test_headlines_mark_what_matched(conn: psycopg.Connection) -> None:
    assert judge_headline(headline(conn, SEED, "Doraemnon"), "Doraemnon").ok
    marked = headline(conn, SEED, "のび太")
    assert not judge_headline(marked, "のび太").ok and "<b>" not in marked


def test_the_primary_is_writable(conn: psycopg.Connection) -> None:
    assert not is_read_only(conn)
