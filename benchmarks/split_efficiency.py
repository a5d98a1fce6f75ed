"""How many requests the split check's sequential test needs, against a fixed-sample binomial test.

By simulation: Traefik replicas each running their own earliest-deadline-first weighted round robin (random
phase, as after a reload), requests spread over replicas at random (as kube-proxy does), and the client's
in-flight requests completing in random order. The sequential test must accept a true 70/30 and reject a
65/35 at alpha = beta = 0.01; the fixed-sample two-sided binomial test at the same error rates needs
`fixed` requests whatever the truth. The model-free SPRT alone (replica count unknown) is also simulated on
independent requests, for comparison. Last line: `split_efficiency sequential=<n> fixed=<n> ratio=<r>`.

Run: .venv/bin/python benchmarks/split_efficiency.py [--runs N] [--seed S]
"""

from __future__ import annotations

import argparse
import math
import random
import statistics
import sys
from dataclasses import dataclass
from fractions import Fraction

from dbc_validate.stats import (
    Outcome,
    SequentialSplitTest,
    SplitHypothesis,
    fixed_sample_size,
    integer_weights,
    wrr_client_stream,
)

REQUIRED = {"prod": Fraction(7, 10), "stage": Fraction(3, 10)}
ALTERNATIVE = {"prod": Fraction(13, 20), "stage": Fraction(7, 20)}  # 65/35
DELTA, ALPHA, BETA = 0.05, 0.01, 0.01
IN_FLIGHT = 4
MAX_REQUESTS = 50_000


@dataclass
class Case:
    requests: list[int]
    correct: int
    by_wrr: int

    @property
    def mean(self) -> float:
        return statistics.fmean(self.requests)


def traefik_stream(truth: dict[str, Fraction], replicas: int, in_flight: int, rng: random.Random):
    """Variants in the order the client sees them complete."""
    names = list(truth)
    for index in wrr_client_stream(integer_weights(list(truth.values())), replicas, in_flight, rng):
        yield names[index]


def independent_stream(truth: dict[str, Fraction], rng: random.Random):
    names = list(truth)
    cumulative = float(truth[names[0]])
    while True:
        yield names[0] if rng.random() < cumulative else names[1]


def run_case(truth, replicas: int | None, runs: int, rng: random.Random, want: Outcome) -> Case:
    hypothesis = SplitHypothesis(
        REQUIRED, delta=DELTA, alpha=ALPHA, beta=BETA, replicas=replicas, in_flight=IN_FLIGHT if replicas else 0
    )
    case = Case([], 0, 0)
    for _ in range(runs):
        test = SequentialSplitTest(hypothesis)
        stream = traefik_stream(truth, replicas, IN_FLIGHT, rng) if replicas else independent_stream(truth, rng)
        decision = test.decision
        for variant in stream:
            decision = test.observe(variant)
            if decision.outcome is not Outcome.CONTINUE or test.requests >= MAX_REQUESTS:
                break
        case.requests.append(test.requests)
        case.correct += decision.outcome is want
        case.by_wrr += decision.decided_by == "wrr-bound"
    return case


def kl(p: float, q: float) -> float:
    """Kullback-Leibler divergence of Bernoulli(p) from Bernoulli(q)."""
    return p * math.log(p / q) + (1 - p) * math.log((1 - p) / (1 - q))


def wald_lower_bound(alpha: float, beta: float) -> float:
    """Wald's lower bound on the mean sample size of ANY test with these error rates on independent requests,
    averaged over accepting 70/30 and rejecting 65/35."""
    p0, p1 = float(REQUIRED["prod"]), float(ALTERNATIVE["prod"])
    under_h0 = ((1 - alpha) * math.log((1 - alpha) / beta) + alpha * math.log(alpha / (1 - beta))) / kl(p0, p1)
    under_h1 = ((1 - beta) * math.log((1 - beta) / alpha) + beta * math.log(beta / (1 - alpha))) / kl(p1, p0)
    return (under_h0 + under_h1) / 2


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1000, help="simulated runs per case (default 1000)")
    parser.add_argument("--seed", type=int, default=20261126)
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    fixed = fixed_sample_size(float(REQUIRED["prod"]), float(ALTERNATIVE["prod"]), ALPHA, BETA, two_sided=True)
    print(f"fixed-sample binomial test, two-sided, alpha=beta={ALPHA}, 70/30 against 65/35: {fixed} requests")
    print(f"sequential test through Traefik WRR replicas, {IN_FLIGHT} requests in flight, {args.runs} runs per case:")
    worst = 0.0
    for replicas in (1, 2, 3):
        accept = run_case(REQUIRED, replicas, args.runs, rng, Outcome.ACCEPT)
        reject = run_case(ALTERNATIVE, replicas, args.runs, rng, Outcome.REJECT)
        mean = (accept.mean + reject.mean) / 2
        worst = max(worst, mean)
        print(
            f"  {replicas} replica(s): true 70/30 accepted in {accept.mean:.0f} requests on average "
            f"(correct {accept.correct / args.runs:.2%}, max {max(accept.requests)}); "
            f"65/35 rejected in {reject.mean:.0f} (correct {reject.correct / args.runs:.2%}, "
            f"max {max(reject.requests)}); decided by the WRR bound "
            f"{(accept.by_wrr + reject.by_wrr) / (2 * args.runs):.0%}; mean {mean:.0f}, ratio {mean / fixed:.3f}"
        )
    iid_runs = max(args.runs // 4, 100)
    accept = run_case(REQUIRED, None, iid_runs, rng, Outcome.ACCEPT)
    reject = run_case(ALTERNATIVE, None, iid_runs, rng, Outcome.REJECT)
    iid_mean = (accept.mean + reject.mean) / 2
    print(
        f"model-free SPRT alone on independent requests ({iid_runs} runs per case): 70/30 accepted in "
        f"{accept.mean:.0f} (correct {accept.correct / iid_runs:.2%}), 65/35 rejected in {reject.mean:.0f} "
        f"(correct {reject.correct / iid_runs:.2%}); ratio {iid_mean / fixed:.3f}"
    )
    bound = wald_lower_bound(ALPHA, BETA)
    print(
        f"Wald's lower bound for any test valid on independent requests: {bound:.0f} requests on average "
        f"(ratio {bound / fixed:.3f}): the Traefik WRR bound is what gets below it"
    )
    print(f"split_efficiency sequential={worst:.0f} fixed={fixed} ratio={worst / fixed:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
