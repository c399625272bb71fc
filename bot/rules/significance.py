"""Telling a pattern from a fluke: Fisher's exact test, and a false discovery rate.

A term is compared between two samples: the hand-overs from A to B, and a sample of what A
kept. Both are samples, so the test is Fisher's (hypergeometric), not a binomial test against
A's rate as if it were known: a term never seen in 30 kept mentions may still be common in A.
Suggestions test many terms at once (every common word of every pair of departments), so a
fixed threshold would let through a steady trickle of flukes from the busiest histories; the
Benjamini-Hochberg procedure instead bounds the expected share of flukes among those kept.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

__all__ = ["discoveries", "more_than_chance"]


def _log_choose(n: int, k: int) -> float:
    # In logs: the binomial coefficients of a few thousand mentions overflow a float.
    return math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)


def more_than_chance(hits: int, size: int, other_hits: int, other_size: int) -> float:
    """One-sided Fisher p-value: the chance that ``hits`` of ``size`` or more have the term,
    were both samples drawn from one population (``hits + other_hits`` of the two)."""
    population, having = size + other_size, hits + other_hits
    denominator = _log_choose(population, size)
    mode = (size + 1) * (having + 1) // (population + 2)
    total = 0.0
    for i in range(hits, min(size, having) + 1):
        term = math.exp(
            _log_choose(having, i) + _log_choose(population - having, size - i) - denominator
        )
        total += term
        if i > mode and term < total * 1e-12:  # past the mode the terms only shrink
            break
    return min(total, 1.0)


def discoveries(p_values: Sequence[float], rate: float) -> list[bool]:
    """Which tests to accept so that about ``rate`` of those accepted are flukes at most."""
    order = sorted(range(len(p_values)), key=lambda i: p_values[i])
    accepted = 0
    for rank, i in enumerate(order, start=1):
        if p_values[i] <= rate * rank / len(p_values):
            accepted = rank
    keep = set(order[:accepted])
    return [i in keep for i in range(len(p_values))]
