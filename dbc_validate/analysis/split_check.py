"""What the traffic-split check compares: the Gate 1 split, the manifests' split routes and their variants.

Pure: the criterion's threshold ("prod/stage split == 70/30") and the route model in, the hypothesis out.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction

from dbc_validate.analysis.traefik_file_config import backend_key
from dbc_validate.capabilities import HttpRoute
from dbc_validate.criteria import Threshold

_NUMBER = re.compile(r"^\s*\d+(?:\.\d+)?\s*$")
_PATH_RULE = re.compile(r"\b(?:PathPrefix|Path)\(\s*`([^`]*)`")


@dataclass(frozen=True)
class RequiredSplit:
    """The split Gate 1 asks for, by variant label: {"prod": 7/10, "stage": 3/10}."""

    shares: Mapping[str, Fraction]

    def describe(self) -> str:
        return "/".join(self.shares) + " " + "/".join(f"{float(s) * 100:g}" for s in self.shares.values())


def required_split(threshold: Threshold) -> RequiredSplit:
    """Parse a split threshold: labels from the quantity ("prod/stage split"), parts from the value ("70/30")."""
    labels = threshold.quantity.split()[0].split("/") if threshold.quantity.strip() else []
    parts = str(threshold.value).split("/")
    if len(labels) != len(parts) or len(parts) < 2 or not all(_NUMBER.match(p) for p in parts):
        raise ValueError(
            f"split threshold {threshold.describe()!r} must name as many variants as parts, "
            f"e.g. quantity 'prod/stage split' with value '70/30' (ini {threshold.ini})"
        )
    numbers = [Fraction(p.strip()) for p in parts]
    total = sum(numbers)
    if total <= 0 or any(n < 0 for n in numbers):
        raise ValueError(f"split threshold {threshold.value!r} must have non-negative parts with a positive sum")
    return RequiredSplit({label: n / total for label, n in zip(labels, numbers, strict=True)})


def split_routes(routes: Sequence[HttpRoute]) -> list[HttpRoute]:
    """Routes that send requests to more than one variant (a weight of 0 sends none)."""
    return [r for r in routes if len({b.variant for b in r.backends if b.share > 0}) > 1]


def marker_header(route: HttpRoute) -> str | None:
    """The response header naming the variant, when every backend of the route sets the same one."""
    names = {name.lower() for backend in route.backends for name in backend.marker}
    if len(names) != 1 or any(not backend.marker for backend in route.backends):
        return None
    return next(iter(next(iter(route.backends)).marker))


def variant_labels(route: HttpRoute, required: RequiredSplit) -> dict[str, str]:
    """Map each of the route's variants to a required label: exact match first, else a unique substring.

    Raises ValueError naming the variants that cannot be mapped.
    """
    variants = list(route.shares())
    mapping: dict[str, str] = {}
    for label in required.shares:
        exact = [v for v in variants if v.lower() == label.lower()]
        near = exact or [v for v in variants if label.lower() in v.lower()]
        if len(near) != 1:
            raise ValueError(
                f"{route.source}: cannot tell which variant is {label!r} among {variants}; "
                f"mark each backend with a headers middleware (customResponseHeaders) whose value is the label"
            )
        mapping[near[0]] = label
    unmapped = [v for v in variants if v not in mapping]
    if unmapped:
        raise ValueError(
            f"{route.source}: variants {unmapped} are not part of the required split {required.describe()}"
        )
    return mapping


def declared_split(route: HttpRoute, labels: Mapping[str, str]) -> dict[str, Fraction]:
    """The route's declared share per required label."""
    return {labels[v]: share for v, share in route.shares().items()}


def format_split(shares: Mapping[str, float | Fraction]) -> str:
    return "/".join(f"{float(s) * 100:.4g}" for s in shares.values())


def marker_mismatches(pairs: Mapping[str, int], route: HttpRoute) -> list[str]:
    """Responses whose marker names another variant than the backend that answered ("marker <- backend").

    Only backends that name themselves (the local variant servers do) can be checked; "?" is skipped.
    """
    variant_of = {backend_key(b): b.variant for b in route.backends}
    problems = []
    for pair, count in sorted(pairs.items()):
        marker, _, backend = pair.partition(" <- ")
        expected = variant_of.get(backend)
        if backend != "?" and expected is not None and expected != marker:
            problems.append(f"{count} response(s) from {backend} (variant {expected}) carried marker {marker!r}")
    return problems


def request_path(route: HttpRoute) -> str:
    """A path the route's rule matches: the first Path/PathPrefix argument, else "/"."""
    match = _PATH_RULE.search(route.match)
    path = match.group(1) if match else "/"
    return path if path.startswith("/") else "/" + path
