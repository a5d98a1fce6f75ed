"""The load topology: the in-flight figure the WRR bound uses, and the options that choose it."""

from __future__ import annotations

import pytest

from dbc_validate.errors import InputError
from dbc_validate.options import resolve
from dbc_validate.probes.load_topology import LoadTopology, load_topology


def cli(**values: object) -> dict[str, object]:
    return {f"dbc_{name}": value for name, value in values.items()}


def test_one_process_counts_its_users_in_flight_and_workers_their_windows():
    assert LoadTopology().in_flight(4) == 4 and not LoadTopology().distributed
    two = LoadTopology(workers=2)
    assert two.distributed and two.users(4) == 8 and two.in_flight(4) == 2 * two.window(4) == 16
    remote = LoadTopology(workers=1, master_bind=("0.0.0.0", 5557), expect_remote=3)
    assert remote.total_workers == 4 and remote.in_flight(4) == 32
    assert "3 remote worker(s) joining 0.0.0.0:5557" in remote.describe()


def test_options_build_the_topology(tmp_path):
    settings = resolve(
        tmp_path, cli(load_workers="2", load_master_bind="0.0.0.0:5557", load_expect_workers="3"), environ={}
    )
    assert load_topology(settings) == LoadTopology(workers=2, master_bind=("0.0.0.0", 5557), expect_remote=3)
    assert load_topology(resolve(tmp_path, {}, environ={"DBC_LOAD_WORKERS": "4"})).workers == 4
    assert not load_topology(resolve(tmp_path, {}, environ={})).distributed
    in_cluster = load_topology(resolve(tmp_path, cli(load_in_cluster=True, keep_cluster=True), environ={}))
    assert in_cluster.in_cluster and in_cluster.keep and in_cluster.in_cluster_workers == 2
    assert in_cluster.describe() == "in-cluster Locust master + 2 worker(s)"


@pytest.mark.parametrize(
    ("values", "start"),
    [
        (cli(load_workers="two"), "--load-workers 'two': not a whole number"),
        (cli(load_workers="-1"), "--load-workers '-1': must be between 0 and 64"),
        (cli(load_master_bind="5557", load_expect_workers="1"), "--load-master-bind '5557': not HOST:PORT"),
        (cli(load_master_bind="h:99999", load_expect_workers="1"), "--load-master-bind 'h:99999': not HOST:PORT"),
        (cli(load_master_bind="0.0.0.0:5557"), "--load-master-bind is given but --load-expect-workers is not"),
        (cli(load_expect_workers="2"), "--load-expect-workers 2 needs --load-master-bind"),
        (cli(load_in_cluster=True, target="local"), "--load-in-cluster needs a cluster target"),
        (
            cli(load_in_cluster=True, load_master_bind="0.0.0.0:5557", load_expect_workers="1"),
            "--load-in-cluster runs the workers in the cluster",
        ),
    ],
)
def test_bad_load_options_stop_the_run_in_one_line(tmp_path, values, start):
    with pytest.raises(InputError) as caught:
        resolve(tmp_path, values, environ={})
    assert str(caught.value).startswith(start), str(caught.value)


@pytest.mark.parametrize(
    ("values", "start"),
    [
        (cli(soak_mode="later"), "--soak-mode 'later': unknown soak mode"),
        (cli(soak_mode="retrospective"), "--soak-mode retrospective needs the Prometheus to read"),
        (cli(soak_prometheus="prometheus:9090"), "--soak-prometheus 'prometheus:9090': not an http(s) URL"),
        (cli(soak_window_end="yesterday"), "--soak-window-end 'yesterday': not a time"),
        (cli(soak_window_end="2026-12-01T12:00:00"), "--soak-window-end '2026-12-01T12:00:00': give the time zone"),
    ],
)
def test_bad_retrospective_soak_options_stop_the_run_in_one_line(tmp_path, values, start):
    with pytest.raises(InputError) as caught:
        resolve(tmp_path, values, environ={})
    assert str(caught.value).startswith(start), str(caught.value)


def test_retrospective_soak_options_resolve(tmp_path):
    settings = resolve(
        tmp_path,
        cli(
            soak_mode="retrospective", soak_prometheus="http://127.0.0.1:9090/", soak_window_end="2026-12-01T12:00:00Z"
        ),
        environ={},
    )
    assert (settings.soak_mode, settings.soak_prometheus) == ("retrospective", "http://127.0.0.1:9090")
    assert settings.soak_window_end == 1796126400.0  # date -d 2026-12-01T12:00:00Z +%s
