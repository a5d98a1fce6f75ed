"""The MySQL probe (pymysql): as the application user with the set's credentials, never as root, read the server's
charset and engine, write and read back CJK text, and check that root without a password is refused."""

from __future__ import annotations

import uuid
from typing import Any

from dbc_validate.analysis.app_checks import CJK_TEXT, MysqlObservation
from dbc_validate.capabilities import MysqlEndpoint

VARIABLES = ("character_set_server", "collation_server", "default_storage_engine", "version", "version_comment")


def connect(endpoint: MysqlEndpoint, timeout_s: int = 10) -> Any:
    """An autocommit utf8mb4 connection as the application user (pymysql errors propagate)."""
    import pymysql  # heavy third-party client: loaded when a probe connects

    return pymysql.connect(
        host=endpoint.host,
        port=endpoint.port,
        user=endpoint.user,
        password=endpoint.password,
        database=endpoint.database,
        charset="utf8mb4",
        autocommit=True,
        connect_timeout=timeout_s,
    )


def _error(exc: BaseException) -> str:
    args = getattr(exc, "args", ())
    return f"({args[0]}) {args[1]}" if len(args) >= 2 else str(exc) or type(exc).__name__


def root_without_password(endpoint: MysqlEndpoint) -> str:
    import pymysql  # heavy third-party client: loaded when a probe connects

    try:
        pymysql.connect(host=endpoint.host, port=endpoint.port, user="root", password="", connect_timeout=10).close()
    except pymysql.err.OperationalError as exc:
        # The server's "(using password: NO)" tail would be masked by the report's redaction: drop it.
        return f"refused: {_error(exc).split(' (using')[0]}"
    return "accepted"


def observe_mysql(endpoint: MysqlEndpoint) -> MysqlObservation:
    """Everything mysql_findings judges. The probe table inherits the database's charset (no clause), as
    WordPress's own plugins' tables would; it is dropped afterwards."""
    import pymysql  # heavy third-party client: loaded when a probe connects

    try:
        conn = connect(endpoint)
    except pymysql.err.MySQLError as exc:
        return MysqlObservation(False, _error(exc), root_without_password=root_without_password(endpoint))
    table = f"dbc_probe_{uuid.uuid4().hex[:8]}"
    with conn, conn.cursor() as cur:
        cur.execute("SHOW VARIABLES WHERE Variable_name IN (" + ",".join(["%s"] * len(VARIABLES)) + ")", VARIABLES)
        variables = {str(k): str(v) for k, v in cur.fetchall()}
        cur.execute(
            "SELECT DEFAULT_CHARACTER_SET_NAME, DEFAULT_COLLATION_NAME FROM information_schema.SCHEMATA "
            "WHERE SCHEMA_NAME=%s",
            (endpoint.database,),
        )
        schema = cur.fetchone()
        cur.execute("SELECT SUPPORT FROM information_schema.ENGINES WHERE ENGINE='InnoDB'")
        engine = cur.fetchone()
        written, write_error = None, ""
        try:
            cur.execute(f"CREATE TABLE `{table}` (id INT AUTO_INCREMENT PRIMARY KEY, body TEXT) ENGINE=InnoDB")
            try:
                cur.execute(f"INSERT INTO `{table}` (body) VALUES (%s)", (CJK_TEXT,))
                cur.execute(f"SELECT body FROM `{table}` WHERE id=%s", (cur.lastrowid,))
                row = cur.fetchone()
                written = None if row is None else str(row[0])
            finally:
                cur.execute(f"DROP TABLE IF EXISTS `{table}`")
        except pymysql.err.MySQLError as exc:
            write_error = _error(exc)
    return MysqlObservation(
        True,
        "",
        variables,
        schema is not None,
        str(schema[0]) if schema else "",
        str(schema[1]) if schema else "",
        str(engine[0]) if engine else "",
        written,
        write_error,
        root_without_password(endpoint),
    )


def read_post(endpoint: MysqlEndpoint, table_prefix: str, post_id: int) -> tuple[str, str] | None:
    """(post_title, post_content) of a WordPress post, straight from its table."""
    with connect(endpoint) as conn, conn.cursor() as cur:
        cur.execute(f"SELECT post_title, post_content FROM `{table_prefix}posts` WHERE ID=%s", (post_id,))
        row = cur.fetchone()
    return None if row is None else (str(row[0]), str(row[1]))
