"""Long evidence series reduced for drawing: at most about MAX_POINTS points, peaks kept."""

from __future__ import annotations

import math
from collections.abc import Sequence

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
