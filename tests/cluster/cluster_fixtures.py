"""Load the recorded-shape API objects of fixtures/cluster/ by file and name (a fresh copy each time)."""

from __future__ import annotations

import copy
import functools
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "fixtures" / "cluster"
MANIFEST_SET = FIXTURES / "manifest-set"


@functools.cache
def _file(name: str) -> dict[str, Any]:
    return yaml.safe_load((FIXTURES / f"{name}.yaml").read_text(encoding="utf-8"))


def obj(file: str, name: str) -> Any:
    return copy.deepcopy(_file(file)[name])


def objs(file: str, *names: str) -> list[Any]:
    return [obj(file, n) for n in names]
