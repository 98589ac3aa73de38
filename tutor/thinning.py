"""The one routine that drops points of a curve, for the worker's ``live.log`` stream,
a plot's series, a long curve kept in memory and a drawing alike: the first and the last
point stay exact, and each thinned stretch keeps its lowest and its highest point (a
spike or a dip never disappears). Stdlib only: the worker imports it.
"""

from __future__ import annotations


def thin(xs: list, ys: list, limit: int) -> tuple[list, list]:
    """At most about ``limit`` points of ``(xs, ys)``: the first and the last exactly, and
    for each stretch in between its lowest and its highest point (NaN never hides them)."""
    n = len(xs)
    if n <= max(limit, 4):
        return xs, ys
    buckets = max(1, (limit - 2) // 2)
    inner = n - 2
    picks = [0]
    for b in range(buckets):
        lo, hi = 1 + b * inner // buckets, 1 + (b + 1) * inner // buckets
        if lo < hi:
            low, high = _extremes(ys, lo, hi)
            picks.extend((low, high) if low < high else (high, low) if high < low else (low,))
    picks.append(n - 1)
    return [xs[i] for i in picks], [ys[i] for i in picks]


def _extremes(ys: list, lo: int, hi: int) -> tuple[int, int]:
    """Indexes of the lowest and the highest value in ``ys[lo:hi]`` (NaN ignored)."""
    segment = ys[lo:hi]
    low, high = min(segment), max(segment)  # C speed; NaN only spoils them when it comes first
    if low != low or high != high:
        finite = [(v, i) for i, v in enumerate(segment) if v == v]
        if not finite:
            return lo, lo
        low, high = min(finite)[0], max(finite)[0]
    return lo + segment.index(low), lo + segment.index(high)


def thin_points(points: list[tuple[float, dict[str, float]]], limit: int) -> list[tuple[float, dict]]:
    """``live.log`` points ``(step, {metric: value})`` thinned by :func:`thin`, metric by
    metric; a point is kept whole when any of its metrics needs it."""
    if len(points) <= max(limit, 4):
        return points
    keep: set[int] = set()
    for name in {name for _, metrics in points for name in metrics}:
        index = [i for i, (_, metrics) in enumerate(points) if name in metrics]
        values = [points[i][1][name] for i in index]
        kept, _ = thin(index, values, limit)
        keep.update(kept)
    return [points[i] for i in sorted(keep)]
