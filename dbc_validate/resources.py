"""The harness's runtime configuration shipped as package data (dbc_validate/data/): one resolver, so a wheel
installed anywhere finds its add-on pins, Traefik install, cluster configs and default tables."""

from __future__ import annotations

from importlib.resources import as_file, files
from pathlib import Path

from dbc_validate.errors import InputError

DATA_PACKAGE = "dbc_validate.data"

# The names other modules refer to (a pins file's `config:` and `settings:` are such names too).
ADDONS = "addons.yaml"
ADDON_PINS = "addon-versions.yaml"
TRAEFIK_INSTALL = "traefik-install.yaml"
APP_PATHS = "app_paths.yaml"
CJK_CORPUS = "cjk/corpus.yaml"


def data_path(name: str) -> Path:
    """The file system path of the package-data file `name` (e.g. "kind-config.yaml", "cjk/corpus.yaml").

    kind and k3d take their config as a file, so callers get a real path; a package imported from a zip
    archive is not supported (setuptools installs wheels unpacked)."""
    resource = files(DATA_PACKAGE).joinpath(*name.split("/"))
    if not resource.is_file():
        raise InputError(
            f"package data {name} is missing from {DATA_PACKAGE}",
            "reinstall dbc-validate (the wheel ships dbc_validate/data/)",
        )
    with as_file(resource) as path:
        return Path(path)


def read_text(name: str) -> str:
    """The text of the package-data file `name`."""
    return data_path(name).read_text(encoding="utf-8")
