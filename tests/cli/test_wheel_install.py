"""A built wheel carries its runtime configuration: `dbc-validate analyze` works from outside the checkout."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
KIND_OVERLAY = ROOT / "manifests" / "overlays" / "kind"


@pytest.mark.slow
def test_the_wheel_analyzes_a_manifest_set_from_another_directory(tmp_path: Path) -> None:
    source = tmp_path / "source"  # a copy: building writes build/ and *.egg-info beside the sources
    shutil.copytree(ROOT / "dbc_validate", source / "dbc_validate", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source)
    wheels = tmp_path / "wheels"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(wheels), str(source)],
        check=True,
        timeout=300,
    )
    wheel = next(wheels.glob("dbc_validate-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {"dbc_validate/data/addons.yaml", "dbc_validate/data/app_paths.yaml"} <= names
    assert "dbc_validate/report/templates/gate1.html.j2" in names
    # The wheel's code, not the checkout's: unpacked first on the path, the dependencies from this environment.
    site = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(site), str(wheel)],
        check=True,
        timeout=300,
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {**os.environ, "PYTHONPATH": str(site)}
    code = "import dbc_validate, sys; from dbc_validate.cli import main; print(dbc_validate.__file__); sys.exit(main())"
    result = subprocess.run(
        [sys.executable, "-c", code, "analyze", str(KIND_OVERLAY)],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.stdout.splitlines()[0].startswith(str(site)), result.stdout[:500]
    assert result.returncode in (0, 1), result.stderr  # 1: findings; 2 would be unusable input
    assert "Traceback" not in result.stderr and "cannot read" not in result.stdout + result.stderr
