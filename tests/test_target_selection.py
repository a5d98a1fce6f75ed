"""What --target auto resolves to, and the cluster targets' prerequisites (pure decisions)."""

from __future__ import annotations

from dbc_validate.errors import MissingBinary
from dbc_validate.targets.cluster import missing_prerequisites
from dbc_validate.targets.selection import choose_target
from dbc_validate.tools.container_engine import EngineProbe

NO_CLIENT = EngineProbe(None, False, "not found")
CLIENT_ONLY = EngineProbe("docker", False, "Cannot connect to the Docker daemon")
ENGINE = EngineProbe("docker", True, "28.2.2")


def test_explicit_targets_are_taken_as_requested() -> None:
    assert choose_target("k3d", NO_CLIENT, None).name == "k3d"


def test_auto_without_any_client_is_local() -> None:
    choice = choose_target("auto", NO_CLIENT, "/usr/bin/kind")
    assert choice.name == "local" and "no container engine client" in choice.why


def test_a_docker_client_without_engine_counts_as_no_engine() -> None:
    choice = choose_target("auto", CLIENT_ONLY, "/usr/bin/kind")
    assert choice.name == "local"
    assert "docker client found but no engine answers" in choice.why
    assert "Cannot connect" in choice.why


def test_an_engine_without_kind_is_local() -> None:
    choice = choose_target("auto", ENGINE, None)
    assert choice.name == "local" and "kind is not installed" in choice.why


def test_an_engine_and_kind_give_kind() -> None:
    assert choose_target("auto", ENGINE, "/usr/bin/kind").name == "kind"


def test_kind_needs_an_engine_and_the_cli() -> None:
    problems = missing_prerequisites("kind", CLIENT_ONLY, lambda name: None, False)
    assert [type(p) for p in problems] == [MissingBinary, MissingBinary]
    assert "container engine" in problems[0].problem and "kind CLI" in problems[1].problem
    assert "--target local" in problems[0].fix


def test_k3d_with_engine_and_cli_has_no_problem() -> None:
    assert missing_prerequisites("k3d", ENGINE, lambda name: f"/usr/bin/{name}", False) == []


def test_kubeconfig_needs_a_file() -> None:
    problems = missing_prerequisites("kubeconfig", NO_CLIENT, lambda name: None, False)
    assert len(problems) == 1 and "--kubeconfig" in problems[0].fix
    assert missing_prerequisites("kubeconfig", NO_CLIENT, lambda name: None, True) == []
