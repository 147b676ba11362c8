"""Percentiles as the reports state them: nearest rank, so every figure is an observation."""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["percentile"]


def percentile(ordered: Sequence[int], p: int) -> int:
    """Nearest rank: the smallest of the sorted `ordered` with at least p% of them at or
    below it (p50 of [1, 2, 3, 4] is 2, p90 is 4)."""
    if not ordered:
        raise ValueError("no observations")
    rank = -(-p * len(ordered) // 100)  # ceil without floats
    return ordered[max(rank, 1) - 1]
