"""`--postgres-image`: run a PostgreSQL image with testcontainers (needs Docker) to check a freshly built image.

A thin shell: start the container with a `discourse` database and a random password, hand back its DSN,
stop it with the session. This path needs a container engine, which the project's own machines lack,
so it has not been run by the project's CI.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from contextlib import ExitStack

from dbc_validate.errors import InputError, MissingBinary
from dbc_validate.redact import redact
from dbc_validate.tools.binaries import INSTALL_HINTS
from dbc_validate.tools.container_engine import probe_container_engine


def start_image(image: str, database: str, stack: ExitStack, progress: Callable[[str], None]) -> str:
    """Start `image`, register its removal on `stack`, return a superuser DSN to `database` (it holds a password)."""
    engine = probe_container_engine()
    if not engine.engine_answers:
        raise MissingBinary(
            f"--postgres-image {image} needs a container engine, and none answers ({engine.detail})",
            INSTALL_HINTS["docker"] + "; or test an existing database with --postgres-dsn",
        )
    # heavy, optional: testcontainers loads only for --postgres-image; 4.x moved the module, both spellings exist
    try:
        from testcontainers.community.postgres import PostgresContainer  # type: ignore[import-untyped]
    except ImportError:
        from testcontainers.postgres import PostgresContainer  # type: ignore[import-untyped,no-redef]
    container = PostgresContainer(
        image, username="postgres", password=secrets.token_urlsafe(18), dbname=database, driver=None
    )
    progress(f"postgres image: starting {image} with testcontainers")
    try:
        container.start()
    except Exception as exc:
        raise InputError(
            f"could not start --postgres-image {image}: {redact(str(exc)).splitlines()[0]}",
            "check the image name (docker images) and that the engine can run it",
        ) from None
    stack.callback(container.stop)
    return str(container.get_connection_url(driver=None))
