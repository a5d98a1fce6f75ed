"""Judge a database's text-search catalog against what production needs: the pg_cjk_parser extension, the parser
built on its functions, the configuration on that parser with the declared mappings, used by default."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from dbc_validate.analysis.bootstrap_sql import CJK_CONFIGURATION

EXTENSION = "pg_cjk_parser"
PARSER = "public.pg_cjk_parser"
CONFIGURATION = CJK_CONFIGURATION
# The support functions the extension creates, by parser slot (REFERENCE.md, "The CJK parser").
PARSER_FUNCTIONS = {
    "start": "prsd2_cjk_start",
    "gettoken": "prsd2_cjk_nexttoken",
    "end": "prsd2_cjk_end",
    "lextype": "prsd2_cjk_lextype",
    "headline": "prsd2_cjk_headline",
}


@dataclass(frozen=True)
class ParserFunction:
    slot: str  # start, gettoken, end, lextype, headline
    name: str  # function name, "-" when the slot is empty
    from_extension: bool  # a member of the pg_cjk_parser extension


@dataclass(frozen=True)
class CjkCatalog:
    """What the database says about its CJK text search objects."""

    database: str
    extension_version: str | None  # None: pg_cjk_parser is not installed
    parser_functions: tuple[ParserFunction, ...]  # empty: no parser public.pg_cjk_parser
    configuration_parser: str | None  # parser of public.config_2_gram_cjk; None: no such configuration
    database_default: str | None  # default_text_search_config set on the database (ALTER DATABASE ... SET)
    session_default: str  # what a new session of this user gets


def _unquote(value: str | None) -> str | None:
    return None if value is None else value.strip().strip('"')


def catalog_problems(catalog: CjkCatalog) -> list[str]:
    """Everything that keeps the database from searching with the CJK parser by default (empty: all good)."""
    problems: list[str] = []
    if catalog.extension_version is None:
        problems.append(f"extension {EXTENSION} is not installed (no row in pg_extension)")
    if not catalog.parser_functions:
        problems.append(f"text search parser {PARSER} does not exist")
    for function in catalog.parser_functions:
        wanted = PARSER_FUNCTIONS.get(function.slot)
        if function.name != wanted:
            problems.append(f"parser {PARSER} uses {function.name} for {function.slot}, expected {wanted}")
        elif not function.from_extension:
            problems.append(f"parser {PARSER} function {function.name} does not belong to extension {EXTENSION}")
    if catalog.configuration_parser is None:
        problems.append(f"text search configuration {CONFIGURATION} does not exist")
    elif catalog.configuration_parser != PARSER:
        problems.append(
            f"configuration {CONFIGURATION} is built on parser {catalog.configuration_parser}, not {PARSER}"
        )
    if _unquote(catalog.database_default) != CONFIGURATION:
        shown = catalog.database_default or "nothing (the server default applies)"
        problems.append(
            f"database {catalog.database} sets default_text_search_config to {shown}, expected {CONFIGURATION}"
        )
    elif _unquote(catalog.session_default) != CONFIGURATION:
        problems.append(
            f"a new session gets default_text_search_config {catalog.session_default} (a role setting overrides "
            f"the database's {CONFIGURATION})"
        )
    return problems


def database_setting(setconfig: Sequence[str] | None, name: str) -> str | None:
    """The value of `name` in a pg_db_role_setting.setconfig array ("name=value" items)."""
    for item in setconfig or ():
        key, _, value = item.partition("=")
        if key.strip() == name:
            return value
    return None


def mapping_differences(declared: Mapping[str, Sequence[str]], actual: Mapping[str, Sequence[str]]) -> list[str]:
    """How the configuration's token mappings differ from what the bootstrap declares (empty: identical)."""
    differences = []
    for token in sorted(set(declared) | set(actual)):
        want, have = tuple(declared.get(token, ())), tuple(actual.get(token, ()))
        if want == have:
            continue
        if not have:
            differences.append(f"token type {token}: declared {', '.join(want)}, but not mapped")
        elif not want:
            differences.append(f"token type {token}: mapped to {', '.join(have)}, but the bootstrap declares nothing")
        else:
            differences.append(f"token type {token}: declared {', '.join(want)}, mapped to {', '.join(have)}")
    return differences


def plan_index_names(plan: Any) -> set[str]:
    """Names of the indexes an EXPLAIN (FORMAT JSON) plan scans."""
    names: set[str] = set()
    stack = [plan]
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(node)
        elif isinstance(node, Mapping):
            if "Index Name" in node:
                names.add(str(node["Index Name"]))
            stack.extend(v for k, v in node.items() if k in ("Plan", "Plans"))
    return names
