"""Independent reference figures, computed from the dataset's plain records with numpy."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
from scipy import optimize, stats

Z = 1.959963984540054


def nps(scores: list[int]) -> dict[str, float]:
    """NPS in points: the normal-approximation CI from Var = 100^2 [p + d - (p - d)^2] / n from 30 answers with at
    least 5 promoters, non-promoters, detractors and non-detractors; else the adjusted Wald CI (Rocks 2016: 0.75
    promoters and 0.75 detractors added, n + 3); none for one answer."""
    values = np.array(scores)
    n = len(values)
    promoters, detractors = int(np.sum(values >= 9)), int(np.sum(values <= 6))
    p, d = promoters / n, detractors / n
    value = 100 * (p - d)
    if n < 30 or min(promoters, n - promoters, detractors, n - detractors) < 5:
        return {"value": value, "n": n, **_adjusted_wald(promoters, detractors, n)}
    se = 100 * math.sqrt((p + d - (p - d) ** 2) / n)
    return {"value": value, "n": n, "ci_low": max(value - Z * se, -100), "ci_high": min(value + Z * se, 100)}


def _adjusted_wald(promoters: int, detractors: int, n: int) -> dict[str, float]:
    if n == 1:
        return {"ci_low": math.nan, "ci_high": math.nan}
    p, d = (promoters + 0.75) / (n + 3), (detractors + 0.75) / (n + 3)
    half = Z * math.sqrt((p + d - (p - d) ** 2) / (n + 3))
    return {"ci_low": max(100 * (p - d - half), -100), "ci_high": min(100 * (p - d + half), 100)}


def wilson(successes: int, n: int) -> dict[str, float]:
    """A share in percent with its Wilson interval."""
    share = successes / n
    denominator = 1 + Z * Z / n
    centre = (share + Z * Z / (2 * n)) / denominator
    half = Z * math.sqrt(share * (1 - share) / n + Z * Z / (4 * n * n)) / denominator
    return {"value": 100 * share, "n": n, "ci_low": 100 * (centre - half), "ci_high": 100 * (centre + half)}


def csat(scores: list[int]) -> dict[str, float]:
    """Share of 4-5 answers."""
    return wilson(sum(1 for s in scores if s >= 4), len(scores))


def mean(scores: list[int], scale: tuple[float, float] | None = None) -> dict[str, float]:
    """Mean with a t interval, cut to the scale's ends; where the scale is known and fewer than 5 answers differ
    from the most common one, the t interval of the answers weighted 1 and a quarter answer at each end of the
    scale (its centre their weighted mean, the interval stretched to hold the plain mean)."""
    values = np.array(scores, dtype=float)
    n = len(values)
    low_end, high_end = scale or (-math.inf, math.inf)
    weights = np.ones(n)
    if scale is not None and n - np.unique(values, return_counts=True)[1].max() < 5:
        values, weights = np.append(values, scale), np.append(weights, [0.25, 0.25])
    centre = np.average(values, weights=weights)
    spread = math.sqrt(np.sum(weights * (values - centre) ** 2) / (weights.sum() - 1))
    half = stats.t.ppf(0.975, n - 1) * spread / math.sqrt(weights.sum())
    plain = float(np.mean(scores))
    low, high = max(min(centre - half, plain), low_end), min(max(centre + half, plain), high_end)
    return {"value": plain, "n": n, "ci_low": low, "ci_high": high}


def grouped(
    records: Iterable[dict[str, Any]], keys: list[str], value: str, where: Callable[[dict[str, Any]], bool]
) -> dict[tuple[Any, ...], list[Any]]:
    """Values per group key, for the records that satisfy `where`."""
    groups: dict[tuple[Any, ...], list[Any]] = defaultdict(list)
    for record in records:
        if where(record):
            groups[tuple(record[k] for k in keys)].append(record[value])
    return dict(groups)


def share_p_value(mine: list[bool], everyone: int, answered: int) -> float:
    """A group's share against the rest's: Fisher's exact test under 30 in either, else the pooled z test."""
    hits, n = sum(mine), len(mine)
    other_hits, other_n = answered - hits, everyone - n
    if min(n, other_n) < 30:
        return float(stats.fisher_exact([[hits, n - hits], [other_hits, other_n - other_hits]]).pvalue)
    pooled = answered / everyone
    z = (hits / n - other_hits / other_n) / math.sqrt(pooled * (1 - pooled) * (1 / n + 1 / other_n))
    return float(2 * stats.norm.sf(abs(z)))


def poisson_count(events: int) -> dict[str, float]:
    """A count with its exact 95% interval: the rates under which a count this high (low) has 2.5% chance."""
    low = (
        0.0
        if events == 0
        else optimize.brentq(lambda m: stats.poisson.sf(events - 1, m) - 0.025, 1e-9, 10 * events + 10)
    )
    high = optimize.brentq(lambda m: stats.poisson.cdf(events, m) - 0.025, 1e-9, 10 * events + 10)
    return {"value": float(events), "n": events, "ci_low": low, "ci_high": high}


def rate_change(events: int, seconds: float, before: int, before_seconds: float) -> dict[str, float]:
    """The % change of a rate per second and the two-sided exact conditional p-value: the probability of every split
    of both counts' total no likelier than the one seen, under the split the times alone would give."""
    total, share = events + before, seconds / (seconds + before_seconds)
    chances = stats.binom.pmf(np.arange(total + 1), total, share)
    seen = stats.binom.pmf(events, total, share)
    p_value = float(min(1.0, chances[chances <= seen * (1 + 1e-7)].sum()))
    return {"change": 100 * ((events / seconds) / (before / before_seconds) - 1), "p_value": p_value}
