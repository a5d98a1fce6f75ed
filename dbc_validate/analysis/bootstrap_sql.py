"""The database bootstrap SQL read as data: its statements, the text-search mappings it declares, and which of
its failures a missing extension explains (everything else is a real error)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

CJK_CONFIGURATION = "public.config_2_gram_cjk"
# SQLSTATEs of "that object does not exist": what statements depending on a missing extension fail with.
UNDEFINED_OBJECT_STATES = frozenset({"42883", "42704", "42P01", "3F000"})


@dataclass(frozen=True)
class SqlStatement:
    text: str
    line: int  # 1-based line of its first character in its source
    origin: str = ""  # e.g. "ConfigMap infra/discourse-bootstrap-sql key discourse-bootstrap.sql"

    @property
    def head(self) -> str:
        """The statement's first 80 characters on one line, for messages."""
        flat = " ".join(self.text.split())
        return flat if len(flat) <= 80 else flat[:77] + "..."

    @property
    def where(self) -> str:
        return f"{self.origin} line {self.line}" if self.origin else f"line {self.line}"


_DOLLAR_TAG = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)?\$")


def _skip_quoted(sql: str, i: int, quote: str, backslashes: bool) -> int:
    """Index just past the closing `quote` of a literal opened at sql[i]."""
    j = i + 1
    while j < len(sql):
        if backslashes and sql[j] == "\\":
            j += 2
            continue
        if sql[j] == quote:
            if j + 1 < len(sql) and sql[j + 1] == quote:
                j += 2
                continue
            return j + 1
        j += 1
    raise ValueError(f"unterminated {quote} literal starting at offset {i}")


def _skip_block_comment(sql: str, i: int) -> int:
    depth, j = 0, i
    while j < len(sql):
        if sql.startswith("/*", j):
            depth, j = depth + 1, j + 2
        elif sql.startswith("*/", j):
            depth, j = depth - 1, j + 2
            if depth == 0:
                return j
        else:
            j += 1
    raise ValueError(f"unterminated /* comment starting at offset {i}")


def _next_significant(sql: str, i: int) -> int:
    """Skip whitespace and comments from i."""
    while i < len(sql):
        if sql[i].isspace():
            i += 1
        elif sql.startswith("--", i):
            end = sql.find("\n", i)
            i = len(sql) if end < 0 else end + 1
        elif sql.startswith("/*", i):
            i = _skip_block_comment(sql, i)
        else:
            return i
    return i


def split_statements(sql: str, origin: str = "") -> list[SqlStatement]:
    """The statements of a SQL script, split on top-level semicolons (quotes, comments and $$ bodies respected).

    Raises ValueError for an unterminated literal, comment or dollar-quoted body.
    """
    statements: list[SqlStatement] = []
    start = _next_significant(sql, 0)
    i = start
    while i < len(sql):
        char = sql[i]
        if sql.startswith("--", i) or sql.startswith("/*", i):
            i = _next_significant(sql, i)
            continue
        if char in "'\"":
            escaped = char == "'" and i > 0 and sql[i - 1] in "eE" and (i < 2 or not sql[i - 2].isalnum())
            i = _skip_quoted(sql, i, char, backslashes=escaped)
            continue
        if char == "$":
            tag = _DOLLAR_TAG.match(sql, i)
            if tag and not (i > 0 and (sql[i - 1].isalnum() or sql[i - 1] == "_")):
                end = sql.find(tag.group(0), tag.end())
                if end < 0:
                    raise ValueError(f"unterminated dollar-quoted body {tag.group(0)} starting at offset {i}")
                i = end + len(tag.group(0))
                continue
        if char == ";":
            text = sql[start:i].strip()
            if text:
                statements.append(SqlStatement(text, sql.count("\n", 0, start) + 1, origin))
            start = _next_significant(sql, i + 1)
            i = start
            continue
        i += 1
    tail = sql[start:].strip()
    if tail:
        statements.append(SqlStatement(tail, sql.count("\n", 0, start) + 1, origin))
    return statements


def _strip_comments(sql: str) -> str:
    sql = re.sub(r"/\*.*?\*/", " ", sql, flags=re.DOTALL)
    return re.sub(r"--[^\n]*", " ", sql)


def _identifier(part: str) -> str:
    part = part.strip()
    return part[1:-1] if len(part) > 1 and part[0] == part[-1] == '"' else part.lower()


def _name(raw: str) -> str:
    """A possibly quoted, possibly schema-qualified name, with schema public by default."""
    parts = [_identifier(p) for p in raw.strip().split(".")]
    return ".".join(parts) if len(parts) > 1 else f"public.{parts[0]}"


def _names(raw: str) -> list[str]:
    """A comma-separated list of names, each without its schema (catalogs list dictionaries by bare name)."""
    return [_identifier(p.strip().split(".")[-1]) for p in raw.split(",") if p.strip()]


_MAPPING = re.compile(
    r"ALTER\s+TEXT\s+SEARCH\s+CONFIGURATION\s+(?P<config>[\w.\"]+)\s+"
    r"(?P<verb>ADD|ALTER|DROP)\s+MAPPING\s+(?:IF\s+EXISTS\s+)?FOR\s+(?P<tokens>[\w\s,\"]+?)"
    r"(?:\s+WITH\s+(?P<dicts>[\w\s,.\"]+?))?\s*;",
    re.IGNORECASE,
)


def declared_mappings(
    statements: Iterable[SqlStatement], config: str = CJK_CONFIGURATION
) -> dict[str, tuple[str, ...]]:
    """Token type -> dictionaries, as the script's ADD/ALTER/DROP MAPPING statements for `config` leave them.

    Statements inside DO blocks count too: the bootstrap creates the configuration inside one.
    """
    mappings: dict[str, tuple[str, ...]] = {}
    wanted = _name(config)
    for statement in statements:
        text = _strip_comments(statement.text) + ";"
        for match in _MAPPING.finditer(text):
            if _name(match.group("config")) != wanted:
                continue
            verb = match.group("verb").upper()
            dicts = tuple(_names(match.group("dicts") or ""))
            for token in _names(match.group("tokens")):
                if verb == "DROP":
                    mappings.pop(token, None)
                elif dicts:
                    mappings[token] = dicts
    return mappings


_CREATE_EXTENSION = re.compile(r"^\s*CREATE\s+EXTENSION\s+(?:IF\s+NOT\s+EXISTS\s+)?\"?([\w-]+)\"?", re.IGNORECASE)


def created_extension(statement: SqlStatement) -> str | None:
    """The extension a CREATE EXTENSION statement creates, else None."""
    match = _CREATE_EXTENSION.match(_strip_comments(statement.text))
    return match.group(1).lower() if match else None


@dataclass(frozen=True)
class StatementFailure:
    statement: SqlStatement
    sqlstate: str | None
    message: str

    def describe(self) -> str:
        state = f" [{self.sqlstate}]" if self.sqlstate else ""
        return f"{self.statement.where}: {self.statement.head}: {self.message}{state}"


@dataclass(frozen=True)
class SortedFailures:
    missing_extensions: Mapping[str, str] = field(default_factory=dict)  # extension -> the server's message
    consequences: tuple[StatementFailure, ...] = ()  # failed because a missing extension's objects do not exist
    errors: tuple[StatementFailure, ...] = ()  # real errors: nothing on this machine explains them


def sort_failures(failures: Sequence[StatementFailure], available_extensions: Iterable[str]) -> SortedFailures:
    """Split bootstrap failures into missing extensions, their consequences, and real errors.

    A CREATE EXTENSION fails "because it is missing" only when the server does not list the extension as
    available; after that, statements failing with an undefined-object error are its consequences.
    Syntax errors, permission errors and anything else stay real errors.
    """
    available = {name.lower() for name in available_extensions}
    missing: dict[str, str] = {}
    consequences: list[StatementFailure] = []
    errors: list[StatementFailure] = []
    for failure in failures:
        extension = created_extension(failure.statement)
        if extension is not None and extension not in available:
            missing[extension] = failure.message
        elif missing and extension is None and failure.sqlstate in UNDEFINED_OBJECT_STATES:
            consequences.append(failure)
        else:
            errors.append(failure)
    return SortedFailures(missing, tuple(consequences), tuple(errors))
