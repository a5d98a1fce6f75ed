"""SQL text split into statements (quotes, dollar quotes and comments respected), each naming where it starts."""

from __future__ import annotations

import re
from dataclasses import dataclass


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
