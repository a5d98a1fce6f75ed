"""Durations, secret redaction and program lookup."""

from __future__ import annotations

import pytest

from dbc_validate.durations import format_duration, parse_duration
from dbc_validate.errors import MissingBinary
from dbc_validate.redact import redact, redact_tree
from dbc_validate.tools.binaries import find_program


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("60", 60), ("90s", 90), ("15m", 900), ("48h", 172800), ("1h30m", 5400), ("2d", 172800), ("1.5h", 5400)],
)
def test_durations_parse(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "forever", "10x", "h1", "5m 3q"])
def test_bad_durations_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)


def test_durations_format_compactly() -> None:
    assert [format_duration(s) for s in (5, 45, 725, 12000, 180000)] == ["5.0s", "45s", "12m05s", "3h20m", "2d02h"]


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("postgresql://app:Sup3r-secret@db:5432/discourse", "Sup3r-secret"),
        ("host=db user=app password=hunter2 dbname=x", "hunter2"),
        ("PASSWORD: 'abc123xyz'", "abc123xyz"),
        ("Authorization: Bearer eyJhbGciOi.x.y", "eyJhbGciOi.x.y"),
        ("client-key-data: LS0tLS1CRUdJTi", "LS0tLS1CRUdJTi"),
        ("token=ghp_abcdefghijkl", "ghp_abcdefghijkl"),
    ],
)
def test_secrets_are_masked(text: str, secret: str) -> None:
    masked = redact(text)
    assert secret not in masked and "***" in masked


def test_text_without_secrets_is_unchanged() -> None:
    text = "write gap 12.4 s on postgresql://db:5432/discourse (user app)"
    assert redact(text) == text


def test_redact_tree_reaches_keys_and_nested_values() -> None:
    tree = {"a": ["password=x1y2z3"], "dsn password=k9k9": {"b": ("token=abc",)}}
    assert "x1y2z3" not in str(redact_tree(tree)) and "k9k9" not in str(redact_tree(tree))


def test_the_wheel_kubectl_is_found() -> None:
    assert find_program("kubectl").endswith("kubectl")


def test_a_missing_program_names_the_install_step(monkeypatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(MissingBinary, match="k3d not found") as info:
        find_program("k3d")
    assert "k3d.io" in info.value.fix


def test_an_override_that_is_not_executable_is_refused(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("DBC_KUBECTL", str(tmp_path / "nope"))
    with pytest.raises(MissingBinary, match="DBC_KUBECTL"):
        find_program("kubectl")
