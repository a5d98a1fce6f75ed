"""The one helper for reading possibly missing or malformed fields of parsed bodies."""

from __future__ import annotations

from dbc_validate.manifests.fields import dig, listing, mapping


def test_dig_follows_mappings_and_stops_at_anything_else():
    body = {"spec": {"bootstrap": {"initdb": {"database": "app"}}, "list": [1], "scalar": "x"}}
    assert dig(body, "spec", "bootstrap", "initdb", "database") == "app"
    assert dig(body, "spec", "missing", "deeper") is None
    assert dig(body, "spec", "scalar", "deeper") is None
    assert dig(body, "spec", "list", "0") is None
    assert dig(body) is body
    assert dig(None, "spec") is None


def test_malformed_fields_read_as_absent():
    assert mapping({"a": 1}) == {"a": 1} and mapping(["a"]) == {} and mapping(None) == {}
    assert listing([1, 2]) == [1, 2] and listing({"a": 1}) == [] and listing("ab") == []
