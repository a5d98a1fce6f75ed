"""Kubernetes resource quantities ("250m", "1.5", "128Mi", "12345n") as numbers of cores and bytes."""

from __future__ import annotations

import re

_QUANTITY = re.compile(r"^([+-]?[0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?)([a-zA-Z]*)$")

# Decimal SI suffixes (n, u, m, "", k, M, G, T, P, E) and binary ones (Ki .. Ei), as in apimachinery.
_SUFFIX = {
    "n": 1e-9,
    "u": 1e-6,
    "m": 1e-3,
    "": 1.0,
    "k": 1e3,
    "M": 1e6,
    "G": 1e9,
    "T": 1e12,
    "P": 1e15,
    "E": 1e18,
    "Ki": 2.0**10,
    "Mi": 2.0**20,
    "Gi": 2.0**30,
    "Ti": 2.0**40,
    "Pi": 2.0**50,
    "Ei": 2.0**60,
}


def parse_quantity(text: str | int | float) -> float:
    """The value of a quantity in base units (cores for CPU, bytes for memory); ValueError if malformed."""
    if isinstance(text, int | float):
        return float(text)
    match = _QUANTITY.match(str(text).strip())
    if match is None or match.group(2) not in _SUFFIX:
        raise ValueError(f"not a Kubernetes quantity: {text!r}")
    return float(match.group(1)) * _SUFFIX[match.group(2)]


def percent(used: float, available: float) -> float | None:
    """used/available in percent, None when there is nothing to compare against."""
    if available <= 0:
        return None
    return 100.0 * used / available
