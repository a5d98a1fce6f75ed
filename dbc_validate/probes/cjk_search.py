"""The CJK search checks as SQL: catalog state, search answers, ts_debug tokens, index plans and headlines.

Every function takes an open autocommit connection and returns plain records; deciding what is right is
left to analysis/ (cjk_catalog, cjk_oracle). Nothing persistent is created: the index probe works on a
temporary table inside a transaction that is rolled back.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import psycopg
from psycopg import sql

from dbc_validate.analysis.cjk_catalog import (
    CONFIGURATION,
    EXTENSION,
    CjkCatalog,
    ParserFunction,
    database_setting,
    plan_index_names,
)

HOW_TO_PROVIDE_THE_PARSER = (
    "to check the CJK parser, give it a PostgreSQL that has it: --postgres-image dirtbikechina/postgres:15-cjk "
    "(needs Docker), --postgres-dsn pointing at a database bootstrapped with it, a cluster target "
    "(--target kind, k3d or kubeconfig), or install the extension into the PostgreSQL the lab uses "
    "(make install in huangjimmy/pg_cjk_parser with that server's pg_config; choose it with --postgres-bin)"
)

_PARSER_FUNCTIONS_SQL = """
SELECT f.slot, COALESCE((SELECT proname FROM pg_proc WHERE oid = f.fn), '-'),
       EXISTS (SELECT 1 FROM pg_depend d JOIN pg_extension e ON e.oid = d.refobjid
               WHERE d.classid = 'pg_proc'::regclass AND d.objid = f.fn
                 AND d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e' AND e.extname = %(extension)s)
FROM pg_ts_parser p JOIN pg_namespace n ON n.oid = p.prsnamespace
CROSS JOIN LATERAL (VALUES (1, 'start', p.prsstart), (2, 'gettoken', p.prstoken), (3, 'end', p.prsend),
                           (4, 'lextype', p.prslextype), (5, 'headline', p.prsheadline)) AS f(n, slot, fn)
WHERE n.nspname = 'public' AND p.prsname = 'pg_cjk_parser'
ORDER BY f.n
"""

_CONFIGURATION_SQL = """
SELECT pn.nspname || '.' || p.prsname
FROM pg_ts_config c JOIN pg_namespace n ON n.oid = c.cfgnamespace
JOIN pg_ts_parser p ON p.oid = c.cfgparser JOIN pg_namespace pn ON pn.oid = p.prsnamespace
WHERE n.nspname = 'public' AND c.cfgname = 'config_2_gram_cjk'
"""

_MAPPINGS_SQL = """
SELECT t.alias, array_agg(d.dictname::text ORDER BY m.mapseqno)
FROM pg_ts_config c JOIN pg_namespace n ON n.oid = c.cfgnamespace
JOIN pg_ts_config_map m ON m.mapcfg = c.oid
JOIN pg_ts_dict d ON d.oid = m.mapdict
JOIN LATERAL ts_token_type(c.cfgparser) t ON t.tokid = m.maptokentype
WHERE n.nspname = 'public' AND c.cfgname = 'config_2_gram_cjk'
GROUP BY t.alias
"""


def read_catalog(conn: psycopg.Connection) -> CjkCatalog:
    """The database's CJK text-search objects and its default configuration (read only)."""
    database, session_default = conn.execute(
        "SELECT current_database(), current_setting('default_text_search_config')"
    ).fetchone() or ("", "")
    version = conn.execute("SELECT extversion FROM pg_extension WHERE extname = %s", [EXTENSION]).fetchone()
    functions = tuple(
        ParserFunction(slot, name, bool(member))
        for slot, name, member in conn.execute(_PARSER_FUNCTIONS_SQL, {"extension": EXTENSION}).fetchall()
    )
    parser = conn.execute(_CONFIGURATION_SQL).fetchone()
    setting = conn.execute(
        "SELECT s.setconfig FROM pg_db_role_setting s JOIN pg_database d ON d.oid = s.setdatabase "
        "WHERE d.datname = current_database() AND s.setrole = 0"
    ).fetchone()
    return CjkCatalog(
        database=database,
        extension_version=version[0] if version else None,
        parser_functions=functions,
        configuration_parser=parser[0] if parser else None,
        database_default=database_setting(setting[0] if setting else None, "default_text_search_config"),
        session_default=session_default,
    )


def read_mappings(conn: psycopg.Connection) -> dict[str, tuple[str, ...]]:
    """Token type -> dictionaries of public.config_2_gram_cjk (empty when it does not exist)."""
    return {alias: tuple(dicts) for alias, dicts in conn.execute(_MAPPINGS_SQL).fetchall()}


def smoke(conn: psycopg.Connection, document: str, queries: Sequence[str]) -> list[bool]:
    """The seed's smoke test, as the seed runs it: the configuration set as session default, then
    to_tsvector(document) @@ plainto_tsquery(query) for each query."""
    with conn.transaction():
        conn.execute(sql.SQL("SET LOCAL default_text_search_config = {}").format(sql.Literal(CONFIGURATION)))
        rows = conn.execute(
            "SELECT to_tsvector(%(doc)s) @@ plainto_tsquery(q) FROM unnest(%(queries)s::text[]) WITH ORDINALITY "
            "AS x(q, n) ORDER BY n",
            {"doc": document, "queries": list(queries)},
        ).fetchall()
    return [bool(r[0]) for r in rows]


def search(conn: psycopg.Connection, pairs: Sequence[tuple[str, str]], *, phrase: bool = False) -> list[bool]:
    """For each (document, query): to_tsvector(config, document) @@ plainto_tsquery (or phraseto_tsquery)."""
    function = sql.Identifier("phraseto_tsquery" if phrase else "plainto_tsquery")
    statement = sql.SQL(
        "SELECT to_tsvector({cfg}::regconfig, d) @@ {fn}({cfg}::regconfig, q) "
        "FROM unnest(%(docs)s::text[], %(queries)s::text[]) WITH ORDINALITY AS x(d, q, n) ORDER BY n"
    ).format(cfg=sql.Literal(CONFIGURATION), fn=function)
    rows = conn.execute(statement, {"docs": [d for d, _ in pairs], "queries": [q for _, q in pairs]}).fetchall()
    return [bool(r[0]) for r in rows]


@dataclass(frozen=True)
class Token:
    alias: str
    token: str
    lexemes: tuple[str, ...] | None  # None: not indexed (no mapping for this token type)


def ts_debug(conn: psycopg.Connection, text: str) -> list[Token]:
    rows = conn.execute(
        "SELECT alias, token, lexemes FROM ts_debug(%s::regconfig, %s)", [CONFIGURATION, text]
    ).fetchall()
    return [Token(alias, token, None if lexemes is None else tuple(lexemes)) for alias, token, lexemes in rows]


def describe_tokens(tokens: Sequence[Token], limit: int = 24) -> str:
    """ts_debug output on one line: alias 'token' -> {lexemes}, blanks left out."""
    shown = [t for t in tokens if t.alias != "blank"]
    parts = [
        f"{t.alias} {t.token!r} -> " + ("not indexed" if t.lexemes is None else "{" + ", ".join(t.lexemes) + "}")
        for t in shown[:limit]
    ]
    more = f", ... {len(shown) - limit} more" if len(shown) > limit else ""
    return "; ".join(parts) + more if parts else "(no tokens)"


def explain_search(conn: psycopg.Connection, document: str, query: str) -> str:
    """What the database made of a document and a query, for a failure message."""
    try:
        tsquery = conn.execute("SELECT plainto_tsquery(%s::regconfig, %s)::text", [CONFIGURATION, query]).fetchone()
        return (
            f"    document tokens: {describe_tokens(ts_debug(conn, document))}\n"
            f"    query tokens: {describe_tokens(ts_debug(conn, query))}\n"
            f"    plainto_tsquery: {tsquery[0] if tsquery else '?'}"
        )
    except psycopg.Error as exc:
        return f"    (ts_debug failed: {exc.diag.message_primary or exc})"


@dataclass(frozen=True)
class IndexProbe:
    index: str
    chosen_by_planner: bool  # used in the plan the planner picked on its own
    usable: bool  # used at least once sequential scans were disabled
    plan: str  # the plan that decided
    found: tuple[str, ...]  # document ids the indexed query returned


PROBE_TABLE = "dbc_cjk_probe"
PROBE_INDEX = "dbc_cjk_probe_fts"


def probe_gin_index(
    conn: psycopg.Connection, documents: Sequence[tuple[str, str]], query: str, filler_rows: int = 3000
) -> IndexProbe:
    """Build a GIN index on to_tsvector(config, body) over the documents plus ASCII filler rows (so the
    planner has a reason to use it), EXPLAIN the CJK query, run it. All in a rolled-back transaction."""
    cfg = sql.Literal(CONFIGURATION)
    where = sql.SQL("to_tsvector({cfg}::regconfig, body) @@ plainto_tsquery({cfg}::regconfig, {q})").format(
        cfg=cfg, q=sql.Literal(query)
    )
    select = sql.SQL("SELECT id FROM {t} WHERE {where}").format(t=sql.Identifier(PROBE_TABLE), where=where)
    with conn.transaction(force_rollback=True):
        conn.execute(
            sql.SQL("CREATE TEMPORARY TABLE {} (id text, body text) ON COMMIT DROP").format(sql.Identifier(PROBE_TABLE))
        )
        with conn.cursor() as cur:
            cur.executemany(
                sql.SQL("INSERT INTO {} VALUES (%s, %s)").format(sql.Identifier(PROBE_TABLE)), list(documents)
            )
        conn.execute(
            sql.SQL(
                "INSERT INTO {} SELECT 'filler-' || g, 'motocross enduro trail report number ' || g "
                "FROM generate_series(1, %s) AS g"
            ).format(sql.Identifier(PROBE_TABLE)),
            [filler_rows],
        )
        conn.execute(
            sql.SQL("CREATE INDEX {} ON {} USING gin (to_tsvector({}::regconfig, body))").format(
                sql.Identifier(PROBE_INDEX), sql.Identifier(PROBE_TABLE), cfg
            )
        )
        conn.execute(sql.SQL("ANALYZE {}").format(sql.Identifier(PROBE_TABLE)))
        plan = _plan(conn, select)
        chosen = PROBE_INDEX in plan_index_names(plan)
        usable = chosen
        if not chosen:
            conn.execute("SET LOCAL enable_seqscan = off")
            plan = _plan(conn, select)
            usable = PROBE_INDEX in plan_index_names(plan)
        found = tuple(r[0] for r in conn.execute(select).fetchall())
    return IndexProbe(PROBE_INDEX, chosen, usable, _plan_text(plan), found)


def _plan(conn: psycopg.Connection, select: sql.Composed) -> object:
    row = conn.execute(sql.SQL("EXPLAIN (FORMAT JSON) {}").format(select)).fetchone()
    return row[0] if row else None


def _plan_text(plan: object) -> str:
    lines: list[str] = []

    def walk(node: object, depth: int) -> None:
        if isinstance(node, list):
            for item in node:
                walk(item, depth)
        elif isinstance(node, dict):
            if "Node Type" in node:
                index = f" using {node['Index Name']}" if "Index Name" in node else ""
                lines.append("  " * depth + f"{node['Node Type']}{index}")
            walk(node.get("Plan"), depth)
            walk(node.get("Plans"), depth + 1)

    walk(plan, 0)
    return " / ".join(lines)


def headline(conn: psycopg.Connection, document: str, query: str) -> str:
    """ts_headline with the whole document shown and matches marked with <b>...</b>."""
    row = conn.execute(
        "SELECT ts_headline(%(cfg)s::regconfig, %(doc)s, plainto_tsquery(%(cfg)s::regconfig, %(q)s), "
        "'StartSel=<b>, StopSel=</b>, HighlightAll=true')",
        {"cfg": CONFIGURATION, "doc": document, "q": query},
    ).fetchone()
    return str(row[0]) if row else ""


def is_read_only(conn: psycopg.Connection) -> bool:
    row = conn.execute("SELECT pg_is_in_recovery() OR current_setting('transaction_read_only') = 'on'").fetchone()
    return bool(row and row[0])
