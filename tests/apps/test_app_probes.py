"""The app probes' small decisions without a lab: which variants a route lets a client tell apart, reading until
each variant answered, the upload's bytes."""

from __future__ import annotations

import zlib
from fractions import Fraction

from dbc_validate.capabilities import Backend, HttpRoute
from dbc_validate.probes.app_checks import expected_variants
from dbc_validate.probes.wordpress_site import UNMARKED, Reply, per_variant, tiny_png


def _route(marked: bool) -> HttpRoute:
    def backend(ns: str, share: Fraction) -> Backend:
        return Backend(ns, "wordpress", 80, share, (), {"X-Dbc-Variant": ns} if marked else {})

    return HttpRoute(
        "r",
        "ns",
        "Host(`h`)",
        ("h",),
        ("web",),
        (),
        (backend("prod", Fraction(7, 10)), backend("stage", Fraction(3, 10))),
        (),
    )


def test_variants_are_told_apart_only_by_a_marker_header():
    assert expected_variants(_route(True)) == ["prod", "stage"]
    assert expected_variants(_route(False)) == [UNMARKED]


def test_per_variant_reads_until_each_variant_answered_and_no_longer():
    sequence = iter(["prod", "prod", "stage", "prod"])
    calls = []

    def call() -> Reply:
        calls.append(1)
        return Reply(200, {}, b"", 0.0, next(sequence))

    got = per_variant(call, ["prod", "stage"])
    assert set(got) == {"prod", "stage"} and len(calls) == 3
    assert set(per_variant(lambda: Reply(200, {}, b"", 0.0, "prod"), ["prod", "stage"], tries=5)) == {"prod"}


def test_each_upload_is_a_distinct_valid_png():
    a, b = tiny_png(b"one"), tiny_png(b"two")
    assert a.startswith(b"\x89PNG\r\n\x1a\n") and a != b
    idat = a.index(b"IDAT")
    length = int.from_bytes(a[idat - 4 : idat], "big")
    assert zlib.decompress(a[idat + 4 : idat + 4 + length]) == b"\x00\xff\x80\x00"
