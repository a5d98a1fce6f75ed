"""Pure statistics for the split and soak checks: Wilson intervals, Traefik's weighted round robin, a sequential test.

The split check combines two facts. A single Traefik instance splits by deterministic weighted round robin
(earliest deadline first), so its per-variant counts stay within about one request of the ideal: a larger
deviation is misconfiguration, not chance (`wrr_deviation_bound`). A Wald SPRT on the binomial model runs
beside it as the model-free fallback for when the number of balancing instances is unknown.
No I/O and no clock here.
"""

from __future__ import annotations

import heapq
import math
import random
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from fractions import Fraction
from functools import cached_property
from statistics import NormalDist

# ---- intervals and sample sizes -------------------------------------------------------------------------


def z_quantile(p: float) -> float:
    """The standard normal quantile of `p` (0 < p < 1)."""
    return NormalDist().inv_cdf(p)


def wilson_interval(successes: int, n: int, confidence: float = 0.99) -> tuple[float, float]:
    """Wilson score interval of a binomial proportion; (0, 1) when nothing was observed."""
    if not 0 <= successes <= n:
        raise ValueError(f"successes must lie in 0..n, got {successes} of {n}")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must lie strictly between 0 and 1, got {confidence}")
    if n == 0:
        return 0.0, 1.0
    z = z_quantile(0.5 + confidence / 2)
    p = successes / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    # Clamp rounding noise: the exact interval always contains p and stays in [0, 1].
    return max(0.0, min(centre - half, p)), min(1.0, max(centre + half, p))


def fixed_sample_size(p0: float, p1: float, alpha: float, beta: float, two_sided: bool = True) -> int:
    """Requests a fixed-sample binomial test needs to tell p0 from p1 at error rates alpha and beta.

    The usual normal-approximation formula n = ((z_a*sqrt(p0 q0) + z_b*sqrt(p1 q1)) / |p1 - p0|)^2.
    """
    if p0 == p1:
        raise ValueError("p0 and p1 must differ")
    z_a = z_quantile(1 - alpha / 2 if two_sided else 1 - alpha)
    z_b = z_quantile(1 - beta)
    root = (z_a * math.sqrt(p0 * (1 - p0)) + z_b * math.sqrt(p1 * (1 - p1))) / abs(p1 - p0)
    return math.ceil(root * root)


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0..100) of `values` by linear interpolation; None for no values (nothing measured
    is a state callers report, not an error). A q outside 0..100 is a programming error: ValueError."""
    if not 0 <= q <= 100:
        raise ValueError(f"percentile {q} outside 0..100")
    if not values:
        return None
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


# ---- Traefik's weighted round robin ------------------------------------------------------------------------


def integer_weights(shares: Sequence[Fraction]) -> list[int]:
    """The smallest integer weights in the same proportions as `shares` (zero shares stay zero)."""
    if any(s < 0 for s in shares):
        raise ValueError("shares must not be negative")
    denominators = [s.denominator for s in shares]
    scale = math.lcm(*denominators) if denominators else 1
    weights = [int(s * scale) for s in shares]
    common = math.gcd(*weights) if any(weights) else 1
    return [w // common for w in weights]


def wrr_schedule(weights: Sequence[int], n: int) -> list[int]:
    """The first `n` picks (indices into `weights`) of one fresh earliest-deadline-first WRR balancer.

    Each child's deadline starts at 1/weight and advances by 1/weight when it is picked, as in Traefik;
    ties go to the lower index (Traefik's heap may order ties differently: at most one request apart).
    """
    heap = [(Fraction(1, w), i) for i, w in enumerate(weights) if w > 0]
    if not heap:
        raise ValueError("at least one weight must be positive")
    heapq.heapify(heap)
    picks = []
    for _ in range(n):
        deadline, index = heapq.heappop(heap)
        picks.append(index)
        heapq.heappush(heap, (deadline + Fraction(1, weights[index]), index))
    return picks


def wrr_expected_counts(weights: Sequence[int], n: int) -> list[int]:
    """Per-child request counts after `n` requests through one fresh WRR balancer: the near-exact expectation."""
    period = sum(w for w in weights if w > 0)
    full, rest = divmod(n, period) if period else (0, 0)
    counts = [full * max(w, 0) for w in weights]
    for index in wrr_schedule(weights, rest):
        counts[index] += 1
    return counts


def wrr_prefix_deviation(weights: Sequence[int]) -> float:
    """The largest |count - n*share| of any child over the first n picks of one balancer, for every n.

    The schedule repeats after sum(weights) picks, so one period decides it.
    """
    period = sum(w for w in weights if w > 0)
    counts = [0] * len(weights)
    worst = 0.0
    for step, index in enumerate(wrr_schedule(weights, period), start=1):
        counts[index] += 1
        for child, weight in enumerate(weights):
            worst = max(worst, abs(counts[child] - step * max(weight, 0) / period))
    return worst


def wrr_deviation_bound(weights: Sequence[int], replicas: int, in_flight: int) -> float:
    """How far a variant's observed count can stray from n*share when every balancer is a healthy Traefik.

    Per replica, any run of consecutive picks (the schedule may be at any phase when counting starts) is
    within 2x the prefix deviation, plus one request for tie order; requests still in flight when counting
    stops shift the counts by at most their number.
    """
    if replicas < 1:
        raise ValueError(f"replicas must be at least 1, got {replicas}")
    per_replica = 2 * wrr_prefix_deviation(weights) + 1
    return replicas * per_replica + max(in_flight, 0)


def wrr_client_stream(weights: Sequence[int], replicas: int, in_flight: int, rng: random.Random) -> Iterator[int]:
    """Child indices in the order a client sees responses through healthy Traefik replicas (a model).

    Each replica runs its own schedule from a random phase (as after a reload), requests go to a replica at
    random (as kube-proxy spreads them), and the `in_flight` outstanding requests complete in random order.
    For simulations and self-tests of the bound; `rng` makes it reproducible.
    """
    period = wrr_schedule(weights, sum(w for w in weights if w > 0))
    positions = [rng.randrange(len(period)) for _ in range(replicas)]
    pending: list[int] = []
    while True:
        replica = rng.randrange(replicas)
        pending.append(period[positions[replica]])
        positions[replica] = (positions[replica] + 1) % len(period)
        if len(pending) > in_flight:
            yield pending.pop(rng.randrange(len(pending)))


# ---- the sequential split test -----------------------------------------------------------------------------


class Outcome(StrEnum):
    ACCEPT = "accept"  # the observed split matches the hypothesis
    REJECT = "reject"  # it differs by at least the tolerance (or breaks the WRR bound)
    CONTINUE = "continue"  # not decided yet


@dataclass(frozen=True)
class SplitHypothesis:
    """H0: variants receive `shares`; H1: some variant's share is off by `delta` or more.

    `replicas` is the number of Traefik instances balancing the route (None when unknown: then only the
    model-free SPRT decides); `in_flight` the client's concurrency.
    """

    shares: Mapping[str, Fraction]
    delta: float = 0.05
    alpha: float = 0.01
    beta: float = 0.01
    replicas: int | None = 1
    in_flight: int = 0

    def __post_init__(self) -> None:
        if len(self.shares) < 2:
            raise ValueError("a split needs at least two variants")
        if sum(self.shares.values()) != 1:
            raise ValueError(f"shares must add up to 1, got {sum(self.shares.values())}")
        if not 0 < self.delta < 1:
            raise ValueError(f"delta must lie strictly between 0 and 1, got {self.delta}")
        if not (0 < self.alpha < 1 and 0 < self.beta < 1):
            raise ValueError("alpha and beta must lie strictly between 0 and 1")

    @property
    def variants(self) -> tuple[str, ...]:
        return tuple(self.shares)

    @cached_property
    def weights(self) -> list[int]:
        return integer_weights(list(self.shares.values()))

    @cached_property
    def bound(self) -> float | None:
        """The WRR deviation bound in requests, or None when the replica count is unknown."""
        if self.replicas is None:
            return None
        return wrr_deviation_bound(self.weights, self.replicas, self.in_flight)

    @cached_property
    def accept_after(self) -> int | None:
        """Requests after which the WRR bound alone accepts: any split `delta` away would have left the band."""
        bound = self.bound
        return None if bound is None else math.floor(2 * bound / self.delta) + 1

    def describe(self) -> str:
        parts = [
            f"H0 {'/'.join(self.variants)} = {'/'.join(_percent(s) for s in self.shares.values())}",
            f"tolerance {self.delta * 100:g} points",
        ]
        if self.bound is not None:
            parts.append(
                f"Traefik WRR bound ±{self.bound:.1f} requests ({self.replicas} replica(s), {self.in_flight} in flight)"
            )
        parts.append(f"SPRT alpha={self.alpha:g} beta={self.beta:g}")
        return ", ".join(parts)


def _percent(share: Fraction) -> str:
    return f"{float(share) * 100:g}"


@dataclass(frozen=True)
class SplitDecision:
    outcome: Outcome
    requests: int
    decided_by: str = ""  # "wrr-bound" | "sprt" | ""
    reason: str = ""


@dataclass
class _Side:
    """One one-sided SPRT: H0 p = p0 against p = p1 for one variant."""

    variant: str
    p0: float
    p1: float
    upper: float  # reject H0 at or above
    lower: float  # accept H0 at or below
    state: Outcome = Outcome.CONTINUE

    def __post_init__(self) -> None:
        self._hit = math.log(self.p1 / self.p0)
        self._miss = math.log((1 - self.p1) / (1 - self.p0))

    def llr(self, hits: int, n: int) -> float:
        """Log-likelihood ratio of p1 against p0 after `hits` of `n`."""
        return hits * self._hit + (n - hits) * self._miss


def _sides(h: SplitHypothesis) -> list[_Side]:
    # With two variants one binomial covers both; with more, one-vs-rest per variant (Bonferroni).
    tested = h.variants[:1] if len(h.variants) == 2 else h.variants
    sides = []
    alternatives = [(v, float(h.shares[v]) + sign * h.delta) for v in tested for sign in (-1, 1)]
    alternatives = [(v, p1) for v, p1 in alternatives if 0 < p1 < 1 and 0 < h.shares[v] < 1]
    alpha_each = h.alpha / max(len(alternatives), 1)
    for variant, p1 in alternatives:
        upper = math.log((1 - h.beta) / alpha_each)
        lower = math.log(h.beta / (1 - alpha_each))
        sides.append(_Side(variant, float(h.shares[variant]), p1, upper, lower))
    return sides


@dataclass
class SequentialSplitTest:
    """Feed it one observed variant per response; it says accept, reject or continue.

    Order of the checks: the WRR bound rejects a deviation Traefik cannot produce; the SPRT rejects a split
    `delta` away; the WRR bound accepts once any such split would have shown; the SPRT accepts when both of
    its sides accepted. Decisions latch: once decided, the answer does not change.
    """

    hypothesis: SplitHypothesis
    counts: dict[str, int] = field(default_factory=dict)
    requests: int = 0
    decision: SplitDecision = field(init=False)
    _sides: list[_Side] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._sides = _sides(self.hypothesis)
        self.decision = SplitDecision(Outcome.CONTINUE, 0)

    def observe(self, variant: str) -> SplitDecision:
        if self.decision.outcome is not Outcome.CONTINUE:
            return self.decision
        self.counts[variant] = self.counts.get(variant, 0) + 1
        self.requests += 1
        self.decision = self._decide()
        return self.decision

    def _decide(self) -> SplitDecision:
        h, n = self.hypothesis, self.requests
        wrr = wrr_verdict(h, self.counts)
        if wrr is not None and wrr.outcome is Outcome.REJECT:
            return wrr
        for side in self._sides:
            if side.state is not Outcome.CONTINUE:
                continue
            llr = side.llr(self.counts.get(side.variant, 0), n)
            if llr >= side.upper:
                side.state = Outcome.REJECT
                return SplitDecision(
                    Outcome.REJECT,
                    n,
                    "sprt",
                    f"SPRT: {side.variant}'s share is nearer {side.p1 * 100:g} % than {side.p0 * 100:g} %",
                )
            if llr <= side.lower:
                side.state = Outcome.ACCEPT
        if wrr is not None:
            return wrr
        if all(side.state is Outcome.ACCEPT for side in self._sides):
            return SplitDecision(Outcome.ACCEPT, n, "sprt", f"SPRT accepted every side after {n} requests")
        return SplitDecision(Outcome.CONTINUE, n)


def worst_deviation(h: SplitHypothesis, counts: Mapping[str, int]) -> tuple[str, float]:
    """The variant (declared or not) whose count strays furthest from n*share, and by how many requests."""
    n = sum(counts.values())
    names = list(h.variants) + [v for v in counts if v not in h.shares]
    deviations = {v: counts.get(v, 0) - n * float(h.shares.get(v, Fraction(0))) for v in names}
    worst = max(deviations, key=lambda v: abs(deviations[v]))
    return worst, deviations[worst]


def wrr_verdict(h: SplitHypothesis, counts: Mapping[str, int]) -> SplitDecision | None:
    """The WRR bound's answer for these counts (None when the replica count is unknown)."""
    bound = h.bound
    accept_after = h.accept_after
    if bound is None or accept_after is None:
        return None
    n = sum(counts.values())
    if n == 0:
        return SplitDecision(Outcome.CONTINUE, 0)
    variant, deviation = worst_deviation(h, counts)
    if abs(deviation) > bound:
        return SplitDecision(
            Outcome.REJECT,
            n,
            "wrr-bound",
            f"{variant} got {counts.get(variant, 0)} of {n} requests, {deviation:+.1f} from the expected share: "
            f"beyond the ±{bound:.1f} a healthy Traefik weighted round robin allows",
        )
    if n >= accept_after:
        return SplitDecision(
            Outcome.ACCEPT,
            n,
            "wrr-bound",
            f"every variant within ±{bound:.1f} requests of its share after {n} requests "
            f"(a split {h.delta * 100:g} points off would have left that band by {accept_after})",
        )
    return SplitDecision(Outcome.CONTINUE, n)


def decide_counts(h: SplitHypothesis, counts: Mapping[str, int]) -> SplitDecision:
    """A one-shot decision on final counts (for example server-side counters): same rules, no history."""
    test = SequentialSplitTest(h)
    n = sum(counts.values())
    test.counts = dict(counts)
    test.requests = n
    if n == 0:
        return SplitDecision(Outcome.CONTINUE, 0)
    return test._decide()


def wrr_interval(hits: int, n: int, bound: float) -> tuple[float, float]:
    """Shares a healthy WRR balancer could have been configured with, given `hits` of `n` and the bound."""
    if n == 0:
        return 0.0, 1.0
    return max(0.0, (hits - bound) / n), min(1.0, (hits + bound) / n)


# Long evidence series reduced for drawing: at most about MAX_POINTS points, peaks kept.
MAX_POINTS = 2000  # per series drawn; larger series are reduced to min/max per bucket (peaks survive)


def _extremes(x: Sequence[float], y: Sequence[float | None], run: list[int]) -> list[tuple[float, float | None]]:
    lo = min(run, key=lambda i: y[i])  # type: ignore[arg-type,return-value]
    hi = max(run, key=lambda i: y[i])  # type: ignore[arg-type,return-value]
    return [(x[i], y[i]) for i in sorted({lo, hi})]


def downsample(
    x: Sequence[float], y: Sequence[float | None], limit: int = MAX_POINTS
) -> tuple[list[float], list[float | None]]:
    """At most about `limit` points keeping each bucket's minimum and maximum, in x order.

    A None (a gap: the line breaks there) survives inside a bucket, so gaps stay visible however long the series.
    """
    n = len(x)
    if n <= limit:
        return list(x), list(y)
    buckets = max(1, limit // 2)
    size = math.ceil(n / buckets)
    points: list[tuple[float, float | None]] = []
    for start in range(0, n, size):
        run: list[int] = []
        for i in range(start, min(start + size, n)):
            if y[i] is not None:
                run.append(i)
                continue
            if run:
                points += _extremes(x, y, run)
                run = []
            if not points or points[-1][1] is not None:
                points.append((x[i], None))
        if run:
            points += _extremes(x, y, run)
    return [p[0] for p in points], [p[1] for p in points]
