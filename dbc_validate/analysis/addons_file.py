"""Reads the add-ons file (package data addons.yaml): the one place the analysis touches a file (kept apart
from the pure code)."""

from __future__ import annotations

import functools
from pathlib import Path

import yaml

from dbc_validate.analysis.addons import AddonPod, addons_from_data
from dbc_validate.errors import InputError
from dbc_validate.resources import ADDONS, data_path


def load_addons(path: Path) -> tuple[AddonPod, ...]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(
            f"cannot read the add-ons file {path}: {exc.strerror}",
            "pass an existing file (dbc_validate/data/addons.yaml describes the add-ons a target installs)",
        ) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise InputError(f"{path} is not valid YAML: {exc}", "correct the add-ons file") from None
    return addons_from_data(data, str(path))


def addons_path() -> Path:
    """Where the packaged add-ons file is."""
    return data_path(ADDONS)


@functools.cache
def default_addons() -> tuple[AddonPod, ...]:
    """The add-ons of the packaged addons.yaml, read once per process."""
    return load_addons(addons_path())
