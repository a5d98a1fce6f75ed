"""Apply the manifest set's bootstrap SQL to a database the harness created, one statement at a time.

Statement by statement, so an extension this PostgreSQL cannot provide (pg_cjk_parser outside the
production image) is recorded with what it made fail, while any other error stops the run loudly.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import psycopg

from dbc_validate.analysis.bootstrap_sql import StatementFailure, sort_failures
from dbc_validate.manifests.cnpg_bootstrap import BootstrapSql


@dataclass(frozen=True)
class BootstrapReport:
    """What applying the bootstrap SQL did to one database."""

    source: str
    statements: int
    applied: int
    missing_extensions: Mapping[str, str] = field(default_factory=dict)  # extension -> the server's message
    consequences: tuple[StatementFailure, ...] = ()  # statements that failed because of a missing extension

    def lacks(self, extension: str) -> str | None:
        """Why `extension` could not be created here, or None when it was."""
        return self.missing_extensions.get(extension)


class BootstrapSqlError(RuntimeError):
    """The bootstrap SQL failed for a reason no missing extension explains: a defect production would hit too."""


def apply_bootstrap(conn: psycopg.Connection, bootstrap: BootstrapSql) -> BootstrapReport:
    """Run every statement of `bootstrap` on an autocommit connection; BootstrapSqlError on a real error."""
    statements = bootstrap.statements()
    available = [row[0] for row in conn.execute("SELECT name FROM pg_available_extensions")]
    failures: list[StatementFailure] = []
    for statement in statements:
        try:
            conn.execute(statement.text)
        except psycopg.Error as exc:
            message = (exc.diag.message_primary or str(exc)).strip().splitlines()[0]
            failures.append(StatementFailure(statement, exc.sqlstate, message))
    failed = sort_failures(failures, available)
    if failed.errors:
        details = "; ".join(f.describe() for f in failed.errors)
        raise BootstrapSqlError(f"the bootstrap SQL of {bootstrap.source} failed: {details}")
    return BootstrapReport(
        source=bootstrap.source,
        statements=len(statements),
        applied=len(statements) - len(failures),
        missing_extensions=dict(failed.missing_extensions),
        consequences=failed.consequences,
    )
