"""Judging the text-search catalog (pure): what production needs, and how each known-bad state is named."""

from __future__ import annotations

from dataclasses import replace

from dbc_validate.analysis.cjk_catalog import (
    PARSER_FUNCTIONS,
    CjkCatalog,
    ParserFunction,
    catalog_problems,
    database_setting,
    mapping_differences,
    plan_index_names,
)

GOOD = CjkCatalog(
    database="discourse",
    extension_version="0.2.0",
    parser_functions=tuple(ParserFunction(slot, name, True) for slot, name in PARSER_FUNCTIONS.items()),
    configuration_parser="public.pg_cjk_parser",
    database_default="public.config_2_gram_cjk",
    session_default="public.config_2_gram_cjk",
)


def test_the_production_state_has_no_problem() -> None:
    assert catalog_problems(GOOD) == []


def test_the_stock_parser_state_names_every_gap() -> None:
    stock = replace(GOOD, extension_version=None, parser_functions=(), configuration_parser="pg_catalog.default")
    assert catalog_problems(stock) == [
        "extension pg_cjk_parser is not installed (no row in pg_extension)",
        "text search parser public.pg_cjk_parser does not exist",
        "configuration public.config_2_gram_cjk is built on parser pg_catalog.default, not public.pg_cjk_parser",
    ]


def test_a_parser_on_foreign_functions_and_a_missing_default_are_problems() -> None:
    functions = (ParserFunction("start", "prsd_start", False), *GOOD.parser_functions[1:-1])
    functions += (ParserFunction("headline", "prsd2_cjk_headline", False),)
    state = replace(GOOD, parser_functions=functions, database_default=None, session_default="pg_catalog.english")
    problems = catalog_problems(state)
    assert "parser public.pg_cjk_parser uses prsd_start for start, expected prsd2_cjk_start" in problems
    assert (
        "parser public.pg_cjk_parser function prsd2_cjk_headline does not belong to extension pg_cjk_parser" in problems
    )
    assert any("sets default_text_search_config to nothing" in p for p in problems)


def test_a_role_setting_overriding_the_database_default_is_a_problem() -> None:
    problems = catalog_problems(replace(GOOD, session_default="pg_catalog.simple"))
    assert problems == [
        "a new session gets default_text_search_config pg_catalog.simple (a role setting overrides the "
        "database's public.config_2_gram_cjk)"
    ]


def test_database_settings_are_read_from_setconfig() -> None:
    setconfig = ["search_path=public", "default_text_search_config=public.config_2_gram_cjk"]
    assert database_setting(setconfig, "default_text_search_config") == "public.config_2_gram_cjk"
    assert database_setting(None, "default_text_search_config") is None


def test_mapping_differences_are_listed_by_token_type() -> None:
    declared = {"cjk": ("simple",), "asciiword": ("english_stem",), "word": ("simple",)}
    actual = {"asciiword": ("simple",), "word": ("simple",), "int": ("simple",)}
    assert mapping_differences(declared, actual) == [
        "token type asciiword: declared english_stem, mapped to simple",
        "token type cjk: declared simple, but not mapped",
        "token type int: mapped to simple, but the bootstrap declares nothing",
    ]
    assert mapping_differences(declared, declared) == []


def test_index_names_are_found_anywhere_in_a_json_plan() -> None:
    plan = [
        {
            "Plan": {
                "Node Type": "Bitmap Heap Scan",
                "Plans": [{"Node Type": "Bitmap Index Scan", "Index Name": "dbc_cjk_probe_fts"}],
            }
        }
    ]
    assert plan_index_names(plan) == {"dbc_cjk_probe_fts"}
    assert plan_index_names([{"Plan": {"Node Type": "Seq Scan"}}]) == set()
