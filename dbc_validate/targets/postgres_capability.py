"""The local target's `postgres` capability: `--postgres-dsn` (existing databases, tested as they are),
`--postgres-image` (a container from that image, bootstrapped from the manifest set) or, when neither is given,
a local lab PostgreSQL bootstrapped from the manifest set. Cluster targets fill it in cluster.postgres_instances.
A DSN may hold a password: it is kept out of every repr, message and report.
"""

from __future__ import annotations

from collections.abc import Callable, MutableMapping, Sequence
from contextlib import ExitStack
from dataclasses import replace
from pathlib import Path

from dbc_validate.capabilities import DATABASE, InstanceKind, PostgresCapability, PostgresInstance
from dbc_validate.errors import InputError
from dbc_validate.labs.postgres_binaries import find_pg_binaries
from dbc_validate.labs.postgres_bootstrap import apply_bootstrap
from dbc_validate.labs.postgres_container import start_image
from dbc_validate.labs.postgres_server import start_postgres_lab
from dbc_validate.manifests.cnpg_bootstrap import BootstrapSql, find_bootstrap_sql
from dbc_validate.manifests.model import ManifestSet
from dbc_validate.redact import redact
from dbc_validate.scope import Scope

Progress = Callable[[str], None]


def describe_dsn(index: int, dsn: str) -> str:
    """A printable name for the index-th --postgres-dsn: user@host:port/database, never the password."""
    import psycopg  # heavy: psycopg loads only when a DSN is given
    from psycopg.conninfo import conninfo_to_dict

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


def _bootstrap(manifest_set: Callable[[], ManifestSet]) -> tuple[BootstrapSql | None, InputError | None]:
    try:
        return find_bootstrap_sql(manifest_set(), DATABASE), None
    except InputError as exc:  # ManifestError included: a DSN can be tested without manifests
        return None, exc


def _bootstrapped(
    name: str, dsn: str, kind: InstanceKind, bootstrap: BootstrapSql, progress: Progress
) -> PostgresInstance:
    instance = PostgresInstance(name, dsn, "primary", Scope.LOCAL, kind)
    progress(f"postgres: applying {bootstrap.source} to {name} ({len(bootstrap.statements())} statements)")
    with instance.connect() as conn:
        report = apply_bootstrap(conn, bootstrap)
    if report.missing_extensions:
        progress(f"postgres: {name} cannot create extension(s) {', '.join(sorted(report.missing_extensions))}")
    return replace(instance, bootstrap=report).inspected()


def _lab_instance(
    pg_bin: Path | None, bootstrap: BootstrapSql, stack: ExitStack, progress: Progress
) -> PostgresInstance:
    binaries = find_pg_binaries(pg_bin)
    lab = start_postgres_lab(binaries, progress)
    stack.callback(lab.stop)
    lab.create_database(DATABASE)
    name = f"local lab (PostgreSQL {binaries.major}, {binaries.bindir})"
    return _bootstrapped(name, lab.dsn(DATABASE), InstanceKind.LAB, bootstrap, progress)


def _image_instance(image: str, bootstrap: BootstrapSql, stack: ExitStack, progress: Progress) -> PostgresInstance:
    dsn = start_image(image, DATABASE, stack, progress)
    return _bootstrapped(f"image {image}", dsn, InstanceKind.IMAGE, bootstrap, progress)


def provide_postgres(
    dsns: Sequence[str],
    image: str | None,
    pg_bin: Path | None,
    manifest_set: Callable[[], ManifestSet],
    stack: ExitStack,
    progress: Progress,
    versions: MutableMapping[str, str],
) -> PostgresCapability:
    """The DSNs as given, else an image's container, else a lab; each instance's version lands in `versions`."""
    bootstrap, problem = _bootstrap(manifest_set)
    instances = [
        PostgresInstance(describe_dsn(i, dsn), dsn, "unknown", Scope.LOCAL, InstanceKind.DSN).inspected()
        for i, dsn in enumerate(dsns, 1)
    ]
    if image or not dsns:
        if bootstrap is None:
            assert problem is not None
            raise problem
        if image:
            instances.append(_image_instance(image, bootstrap, stack, progress))
        else:
            instances.append(_lab_instance(pg_bin, bootstrap, stack, progress))
    for instance in instances:
        versions[f"postgresql {instance.name}"] = instance.server_version
    return PostgresCapability(tuple(instances), bootstrap, problem)
