"""One resolver for the manifest set a target judges by default, used by the targets and by `plan`."""

from __future__ import annotations

import argparse

from dbc_validate.capabilities import TARGET_NAMES
from dbc_validate.cli import plan_command
from dbc_validate.manifests.overlays import DEFAULT_OVERLAYS, default_manifests


def test_every_target_has_a_default_overlay():
    assert set(DEFAULT_OVERLAYS) == set(TARGET_NAMES)


def test_the_overlay_folder_is_used_when_it_exists_else_the_whole_set(tmp_path):
    (tmp_path / "manifests" / "overlays" / "kind").mkdir(parents=True)
    assert default_manifests(tmp_path, "kind") == tmp_path / "manifests" / "overlays" / "kind"
    assert default_manifests(tmp_path, "local") == tmp_path / "manifests" / "overlays" / "kind"
    assert default_manifests(tmp_path, "kubeconfig") == tmp_path / "manifests"  # no prod overlay here
    assert default_manifests(tmp_path, "unknown") == tmp_path / "manifests"


def test_plan_reads_the_set_the_target_would_judge(tmp_path, monkeypatch):
    read = []
    monkeypatch.setattr(plan_command, "load_manifest_set", lambda path: read.append(path) or object())
    (tmp_path / "manifests" / "overlays" / "k3d").mkdir(parents=True)
    plan_command._manifests(argparse.Namespace(manifests=None, target="k3d"), tmp_path)
    assert read == [default_manifests(tmp_path, "k3d")] == [tmp_path / "manifests" / "overlays" / "k3d"]
