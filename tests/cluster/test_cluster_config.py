"""The created cluster has 3 servers by default (as production) and 1 with --servers 1 (a quick dev cluster)."""

from __future__ import annotations

import pytest
import yaml

from dbc_validate.cluster.cluster_config import render, servers_of, with_servers
from dbc_validate.resources import data_path


@pytest.mark.parametrize("tool", ["kind", "k3d"])
def test_the_packaged_configs_create_three_servers(tool):
    config = yaml.safe_load(data_path(f"{tool}-config.yaml").read_text(encoding="utf-8"))
    assert servers_of(tool, config) == 3


@pytest.mark.parametrize("tool", ["kind", "k3d"])
@pytest.mark.parametrize("servers", [1, 3, 5])
def test_servers_are_set_and_the_rest_of_the_config_is_kept(tool, servers):
    packaged = yaml.safe_load(data_path(f"{tool}-config.yaml").read_text(encoding="utf-8"))
    config = yaml.safe_load(render(with_servers(tool, packaged, servers)))
    assert servers_of(tool, config) == servers
    if tool == "kind":
        first = config["nodes"][0]
        assert first["extraPortMappings"] == packaged["nodes"][0]["extraPortMappings"]  # the host port stays
        assert all(set(n) == {"role"} for n in config["nodes"][1:])
    else:
        assert config["ports"] == packaged["ports"] and config["options"] == packaged["options"]
    assert servers_of(tool, packaged) == 3  # the input is not changed


def test_kind_workers_are_kept_after_the_control_plane():
    config = {"nodes": [{"role": "control-plane", "x": 1}, {"role": "worker"}]}
    assert with_servers("kind", config, 3)["nodes"] == [
        {"role": "control-plane", "x": 1},
        {"role": "control-plane"},
        {"role": "control-plane"},
        {"role": "worker"},
    ]


def test_no_servers_is_refused():
    with pytest.raises(ValueError, match="at least one server"):
        with_servers("k3d", {}, 0)
