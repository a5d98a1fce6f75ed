"""The traffic-split verdict from both sides: the client's counts (marker header), and Traefik's own counts
where its metrics are reachable; failed requests count against it too (pure)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from dbc_validate.stats import Outcome, SplitDecision

# Failed requests tolerated during a split measurement, as a fraction of all requests sent: above it the
# measured split says little about a healthy route (the same 1 % as the soak's default error-rate limit).
FAILED_REQUESTS_MAX = 0.01


@dataclass(frozen=True)
class SplitSides:
    """What one split measurement saw: the client's decision and counts, the server's (None: no metrics)."""

    client: SplitDecision
    client_counts: Mapping[str, int]
    failures: int = 0
    server: SplitDecision | None = None
    server_counts: Mapping[str, int] | None = None
    bound: float | None = None  # the WRR deviation bound in requests (None: replicas unknown)
    delta: float = 0.05  # the SPRT's tolerance: the fallback allowance when the bound is unknown


@dataclass(frozen=True)
class SplitVerdict:
    passed: bool
    problems: tuple[str, ...]  # empty when passed
    server_checked: bool  # whether Traefik's own counts took part


def allowed_disagreement(sides: SplitSides) -> float:
    """How far the server's count of a variant may differ from the client's: the WRR bound (or, when it is
    unknown, the tolerance on the requests sent), plus the failed requests the server may have counted while the
    client saw no marker."""
    sent = sum(sides.client_counts.values())
    slack = sides.bound if sides.bound is not None else sides.delta * sent
    return slack + sides.failures


def judge_split(sides: SplitSides, failed_max: float = FAILED_REQUESTS_MAX) -> SplitVerdict:
    """Pass only when the client's test accepts the split, failed requests stay within `failed_max`, and, where
    Traefik's metrics answered, its counts neither reject the split nor disagree with the client's beyond the
    allowance."""
    problems: list[str] = []
    ok = sum(sides.client_counts.values())
    sent = ok + sides.failures
    if sides.client.outcome is Outcome.REJECT:
        problems.append(f"client side rejects the split: {sides.client.reason or 'counts off the required split'}")
    elif sides.client.outcome is not Outcome.ACCEPT:
        problems.append(f"client side undecided after {ok} requests")
    if sent and sides.failures / sent > failed_max:
        problems.append(
            f"{sides.failures} of {sent} requests failed ({sides.failures / sent * 100:.2f} %, "
            f"more than {failed_max * 100:g} %)"
        )
    elif not sent:
        problems.append("no request was answered")
    server_checked = sides.server_counts is not None
    if sides.server_counts is not None:
        if sides.server is not None and sides.server.outcome is Outcome.REJECT:
            problems.append(f"server side (Traefik metrics) rejects the split: {sides.server.reason or 'counts off'}")
        allowed = allowed_disagreement(sides)
        for variant in sorted(set(sides.client_counts) | set(sides.server_counts)):
            client, server = sides.client_counts.get(variant, 0), sides.server_counts.get(variant, 0)
            if abs(server - client) > allowed:
                problems.append(
                    f"{variant}: Traefik counted {server} requests, the client {client}: they differ by "
                    f"{abs(server - client)}, more than the {allowed:.1f} allowed"
                )
    return SplitVerdict(not problems, tuple(problems), server_checked)
