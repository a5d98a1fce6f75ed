"""Patroni topology parsing and the lab's configuration rules (pure parts, no process started)."""

from __future__ import annotations

from pathlib import Path

import pytest

from dbc_validate.analysis.cnpg_topology import DeclaredDurability
from dbc_validate.analysis.patroni_topology import majority_view, parse_cluster
from dbc_validate.errors import InputError
from dbc_validate.labs.patroni_cluster import (
    Credentials,
    MemberPorts,
    PatroniTiming,
    SyncReplication,
    member_config,
    mirrored_sync,
    multi_host_dsn,
)
from dbc_validate.probes.failover_trials import trial_count

# Shaped like Patroni 4.1's GET /cluster (fields the lab does not use included).
CLUSTER = {
    "members": [
        {
            "name": "pg2",
            "role": "quorum_standby",
            "state": "streaming",
            "api_url": "http://127.0.0.1:8009/patroni",
            "host": "127.0.0.1",
            "port": 5433,
            "timeline": 1,
            "receive_lag": 0,
            "replay_lag": 0,
            "lag": 0,
        },
        {
            "name": "pg1",
            "role": "leader",
            "state": "running",
            "api_url": "http://127.0.0.1:8008/patroni",
            "host": "127.0.0.1",
            "port": 5432,
            "timeline": 1,
        },
        {"name": "pg3", "role": "replica", "state": "streaming", "timeline": 1, "lag": "unknown"},
    ],
    "scope": "dbc-failover",
}


def test_cluster_view_names_the_leader_and_judges_health_including_settled_sync_roles() -> None:
    view = parse_cluster(CLUSTER)
    assert [m.name for m in view.members] == ["pg1", "pg2", "pg3"]
    assert view.leader == view.running_leader == "pg1"
    assert view.members[2].lag is None  # "unknown" is not a number
    assert view.healthy(3)
    assert view.healthy(3, sync_standbys=1)
    assert not view.healthy(3, sync_standbys=2)  # Patroni has not registered the second voter yet
    assert not view.healthy(4)
    assert view.label() == "leader pg1"
    assert "pg2 quorum_standby streaming" in view.summary()


def test_a_dead_leader_still_holding_the_lock_is_not_a_running_leader() -> None:
    members = [
        {"name": "pg1", "role": "leader", "state": "stopped"},
        {"name": "pg2", "role": "replica", "state": "running"},
        "garbage",
        {"role": "replica"},
    ]
    view = parse_cluster({"members": members})
    assert view.leader == "pg1" and view.running_leader is None
    assert not view.healthy(2)
    assert parse_cluster({}).label() == "no leader"


def test_a_stale_member_is_outvoted_by_the_others() -> None:
    current = parse_cluster(CLUSTER)
    stale = parse_cluster({"members": [{"name": "pg3", "role": "leader", "state": "running"}]})
    assert majority_view([stale, current, current]) == current
    assert majority_view([stale, current]) == stale  # a tie keeps the first view
    assert majority_view([]) is None


def test_timing_must_follow_patronis_rules() -> None:
    assert PatroniTiming().problems() == []
    assert PatroniTiming(ttl=10).problems()
    assert PatroniTiming(ttl=20, loop_wait=5, retry_timeout=10).problems() == ["loop_wait + 2 * retry_timeout > ttl"]


def test_declared_cnpg_replication_is_mirrored_in_patroni_settings() -> None:
    assert mirrored_sync(DeclaredDurability(None, False)) == SyncReplication()
    quorum = mirrored_sync(DeclaredDurability("ns/pg", True, "any", 1, True))
    assert quorum == SyncReplication("quorum", 1, True)
    assert quorum.dcs_settings() == {
        "synchronous_mode": "quorum",
        "synchronous_node_count": 1,
        "synchronous_mode_strict": True,
    }
    assert quorum.expected_sync_standbys(3) == 2  # every standby votes in quorum mode
    priority = mirrored_sync(DeclaredDurability("ns/pg", True, "first", 5, False))
    assert priority == SyncReplication("on", 2, False)  # at most the two standbys a 3-member lab has
    assert priority.expected_sync_standbys(3) == 2
    assert SyncReplication().dcs_settings() == {"synchronous_mode": False}


def test_member_config_wires_raft_peers_ports_and_timing(tmp_path: Path) -> None:
    config = member_config(
        "pg1",
        tmp_path / "pg1",
        MemberPorts(5432, 8008, 9008),
        [9009, 9010],
        Path("/usr/lib/postgresql/15/bin"),
        Credentials(),
        PatroniTiming(),
        SyncReplication("on", 1, True),
    )
    assert config["raft"]["self_addr"] == "127.0.0.1:9008"
    assert config["raft"]["partner_addrs"] == ["127.0.0.1:9009", "127.0.0.1:9010"]
    dcs = config["bootstrap"]["dcs"]
    assert (dcs["ttl"], dcs["loop_wait"], dcs["retry_timeout"]) == (20, 1, 5)
    assert dcs["synchronous_mode"] is True and dcs["synchronous_mode_strict"] is True
    assert config["postgresql"]["listen"] == "127.0.0.1:5432"
    assert "Credentials(" in repr(Credentials()) and "superuser=" not in repr(Credentials())


def test_read_write_endpoint_is_a_multi_host_dsn_without_a_password(tmp_path: Path) -> None:
    dsn = multi_host_dsn([5432, 5433, 5434], "app", tmp_path / "pgpass")
    assert "host=127.0.0.1,127.0.0.1,127.0.0.1" in dsn
    assert "port=5432,5433,5434" in dsn
    assert "target_session_attrs=read-write" in dsn
    assert "password" not in dsn


@pytest.mark.parametrize(("raw", "expected"), [(None, 3), ("", 3), ("5", 5), (2, 2), (" 1 ", 1)])
def test_failover_trials_option_defaults_and_parses(raw: object, expected: int) -> None:
    assert trial_count(raw, 3) == expected


@pytest.mark.parametrize("raw", ["0", "-1", "three", "1.5"])
def test_bad_failover_trials_value_names_the_problem_and_the_fix(raw: str) -> None:
    with pytest.raises(InputError, match="--failover-trials must be a whole number >= 1") as info:
        trial_count(raw, 3)
    assert "--failover-trials 3" in info.value.fix
