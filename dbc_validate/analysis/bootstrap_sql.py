"""The database bootstrap SQL read as data: its statements, the text-search mappings it declares, and which of
its failures a missing extension explains (everything else is a real error)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from dbc_validate.manifests.sql_statements import SqlStatement

CJK_CONFIGURATION = "public.config_2_gram_cjk"
# SQLSTATEs of "that object does not exist": what statements depending on a missing extension fail with.
UNDEFINED_OBJECT_STATES = frozenset({"42883", "42704", "42P01", "3F000"})


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
