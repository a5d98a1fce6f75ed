"""The `postgres` capability: every PostgreSQL instance a suite must check, with its role and evidence scope.

The local target fills it from `--postgres-dsn` (existing databases, tested as they are), `--postgres-image`
(a container from that image, bootstrapped from the manifest set) or, when neither is given, a local lab
PostgreSQL bootstrapped from the manifest set. Cluster targets fill it with every CNPG instance.
A DSN may hold a password: it is kept out of every repr, message and report.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import TYPE_CHECKING

import psycopg
from psycopg.conninfo import conninfo_to_dict

from dbc_validate.errors import InputError
from dbc_validate.labs.postgres_bootstrap import BootstrapReport, apply_bootstrap
from dbc_validate.manifests.cnpg_bootstrap import BootstrapSql, find_bootstrap_sql
from dbc_validate.redact import redact
from dbc_validate.scope import Scope

if TYPE_CHECKING:
    from dbc_validate.targets.base import Target

DATABASE = "discourse"


class InstanceKind(StrEnum):
    LAB = "local lab"  # a PostgreSQL the harness started from local binaries
    DSN = "--postgres-dsn"  # an existing database, tested as it is
    IMAGE = "--postgres-image"  # a container the harness started from an image
    CLUSTER = "cluster instance"  # a CNPG instance of a live cluster


@dataclass(frozen=True)
class PostgresInstance:
    """One PostgreSQL a suite checks. `dsn` may hold a password: it is never printed (repr excludes it)."""

    name: str
    dsn: str = field(repr=False, compare=False)
    role: str  # "primary" or "replica"
    scope: Scope
    kind: InstanceKind
    database: str = ""
    server_version: str = ""
    bootstrap: BootstrapReport | None = None  # set when the harness created the database and applied the SQL

    def __str__(self) -> str:
        return f"{self.name} ({self.role})"

    def connect(self, *, timeout_s: int = 10) -> psycopg.Connection:
        """An autocommit connection; InputError (with a redacted message) when it cannot be opened."""
        try:
            return psycopg.connect(
                self.dsn, autocommit=True, connect_timeout=timeout_s, application_name="dbc_validate"
            )
        except psycopg.Error as exc:
            first = redact(str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__)
            raise InputError(
                f"cannot connect to {self.name}: {first}",
                "check that the server runs and that the DSN's host, port, user, password and database are right",
            ) from None


@dataclass(frozen=True)
class PostgresCapability:
    """The instances to check and the manifest set's bootstrap SQL (when it could be read)."""

    instances: tuple[PostgresInstance, ...]
    bootstrap: BootstrapSql | None = None
    bootstrap_error: InputError | None = field(default=None, compare=False)

    def require_bootstrap(self) -> BootstrapSql:
        if self.bootstrap is None:
            raise self.bootstrap_error or InputError("no bootstrap SQL was read", "pass --manifests")
        return self.bootstrap


def describe_dsn(index: int, dsn: str) -> str:
    """A printable name for the index-th --postgres-dsn: user@host:port/database, never the password."""
    try:
        params = conninfo_to_dict(dsn)
    except psycopg.Error:
        raise InputError(
            f"--postgres-dsn #{index} is not a valid libpq connection string",
            "give key=value pairs (host=... port=... dbname=... user=...) or a postgresql://user@host:port/db URL",
        ) from None
    host = params.get("host") or params.get("hostaddr") or "localhost"
    user = f"{params['user']}@" if params.get("user") else ""
    database = params.get("dbname") or params.get("user") or "(default database)"
    return redact(f"dsn #{index} {user}{host}:{params.get('port') or 5432}/{database}")


def inspect(instance: PostgresInstance) -> PostgresInstance:
    """The instance with its role, database and server version as the server reports them."""
    with instance.connect() as conn:
        row = conn.execute(
            "SELECT pg_is_in_recovery(), current_database(), current_setting('server_version')"
        ).fetchone()
    assert row is not None
    in_recovery, database, version = row
    return replace(instance, role="replica" if in_recovery else "primary", database=database, server_version=version)


def _bootstrap(target: Target) -> tuple[BootstrapSql | None, InputError | None]:
    try:
        return find_bootstrap_sql(target.manifest_set(), DATABASE), None
    except InputError as exc:  # ManifestError included: a DSN can be tested without manifests
        return None, exc


def _bootstrapped(
    name: str, dsn: str, kind: InstanceKind, bootstrap: BootstrapSql, progress: Callable[[str], None]
) -> PostgresInstance:
    instance = PostgresInstance(name, dsn, "primary", Scope.LOCAL, kind)
    progress(f"postgres: applying {bootstrap.source} to {name} ({len(bootstrap.statements())} statements)")
    with instance.connect() as conn:
        report = apply_bootstrap(conn, bootstrap)
    if report.missing_extensions:
        progress(f"postgres: {name} cannot create extension(s) {', '.join(sorted(report.missing_extensions))}")
    return inspect(replace(instance, bootstrap=report))


def _lab_instance(target: Target, bootstrap: BootstrapSql, stack: ExitStack) -> PostgresInstance:
    from dbc_validate.labs.postgres_binaries import find_pg_binaries
    from dbc_validate.labs.postgres_server import start_postgres_lab

    binaries = find_pg_binaries(target.settings.postgres_bin)
    lab = start_postgres_lab(binaries, target.progress)
    stack.callback(lab.stop)
    lab.create_database(DATABASE)
    name = f"local lab (PostgreSQL {binaries.major}, {binaries.bindir})"
    return _bootstrapped(name, lab.dsn(DATABASE), InstanceKind.LAB, bootstrap, target.progress)


def _image_instance(target: Target, image: str, bootstrap: BootstrapSql, stack: ExitStack) -> PostgresInstance:
    from dbc_validate.labs.postgres_container import start_image

    dsn = start_image(image, DATABASE, stack, target.progress)
    return _bootstrapped(f"image {image}", dsn, InstanceKind.IMAGE, bootstrap, target.progress)


def provide_postgres(target: Target, stack: ExitStack) -> PostgresCapability:
    """The local target's postgres capability: the DSNs as given, else an image's container, else a lab."""
    dsns = list(target.settings.postgres_dsns)
    image = target.settings.postgres_image
    bootstrap, problem = _bootstrap(target)
    instances = [
        inspect(PostgresInstance(describe_dsn(i, dsn), dsn, "unknown", Scope.LOCAL, InstanceKind.DSN))
        for i, dsn in enumerate(dsns, 1)
    ]
    if image or not dsns:
        if bootstrap is None:
            assert problem is not None
            raise problem
        if image:
            instances.append(_image_instance(target, str(image), bootstrap, stack))
        else:
            instances.append(_lab_instance(target, bootstrap, stack))
    for instance in instances:
        target.versions[f"postgresql {instance.name}"] = instance.server_version
    return PostgresCapability(tuple(instances), bootstrap, problem)
