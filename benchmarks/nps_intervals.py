"""How often small groups' 95% intervals hold the true score: cxm's against the intervals it could use instead.

    PYTHONPATH=src .venv/bin/python -u benchmarks/nps_intervals.py [--samples 1000]

For NPS (shares of detractors, passives and promoters) and for a 1-7 mean, draws `--samples` groups of n answers
from a known population and prints, per method and n, the share of intervals that hold the population's value
(coverage; 0.95 is the aim) and their mean width. cxm: for NPS the adjusted Wald interval under 30 answers or where
fewer than 5 answers fall on either side of the promoter or detractor share, else the normal one; for means the t
interval cut to 1-7, adjusted (a quarter answer added at 1 and at 7) where fewer than 5 answers differ from the most
common one. The others: the normal approximation, the percentile bootstrap (4,000 resamples, cxm's method before),
and for means the plain t interval (cxm's before) and Hesterberg's expanded percentile bootstrap.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable

import numpy as np
from scipy import stats as scipy_stats

from cxm.analytics import stats

SIZES = (3, 5, 8, 10, 20, 29, 30, 50, 100)
NPS_POPULATIONS = ([0.2, 0.3, 0.5], [0.1, 0.2, 0.7], [0.05, 0.1, 0.85], [0.02, 0.08, 0.9], [0.4, 0.3, 0.3])
CES_POPULATIONS = (
    [2, 3, 5, 10, 20, 30, 30],
    [5, 5, 10, 20, 30, 20, 10],
    [0, 0, 2, 3, 5, 20, 70],
    [30, 20, 10, 10, 10, 10, 10],
    [0, 0, 0, 0, 1, 4, 95],
    [0, 0, 0, 0, 0, 1, 99],
    [0, 0, 5, 90, 5, 0, 0],
)
Interval = Callable[[np.ndarray, np.ndarray], tuple[float, float]]


def nps_of(scores: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """NPS of each row of weights over the scores."""
    return np.asarray(100 * (weights[..., scores >= 9].sum(-1) - weights[..., scores <= 6].sum(-1)) / weights.sum(-1))


def mean_of(scores: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Mean score of each row of weights."""
    return np.asarray((weights * scores).sum(-1) / weights.sum(-1))


def percentile_bootstrap(statistic: Callable[..., np.ndarray], expanded: bool) -> Interval:
    """The percentile bootstrap over the histogram; expanded: Hesterberg's wider tails for small n."""

    def interval(scores: np.ndarray, counts: np.ndarray) -> tuple[float, float]:
        n = int(counts.sum())
        tail = scipy_stats.norm.cdf(-math.sqrt(n / (n - 1)) * scipy_stats.t.ppf(0.975, n - 1)) if expanded else 0.025
        draws = np.random.default_rng([n, *counts.astype(int)]).multinomial(n, counts / n, size=4000)
        values = statistic(scores, draws.astype(float))
        return float(np.percentile(values, 100 * tail)), float(np.percentile(values, 100 * (1 - tail)))

    return interval


def from_estimate(estimate: Callable[[dict[int, int]], stats.Estimate], normal: bool) -> Interval:
    """An interval from cxm's estimate (normal: the value +- 1.96 standard errors instead of cxm's own)."""

    def interval(scores: np.ndarray, counts: np.ndarray) -> tuple[float, float]:
        found = estimate({int(s): int(c) for s, c in zip(scores, counts, strict=True) if c})
        return (
            (found.value - stats.Z95 * found.se, found.value + stats.Z95 * found.se)
            if normal
            else (found.ci_low, found.ci_high)
        )

    return interval


def plain_t(scores: np.ndarray, counts: np.ndarray) -> tuple[float, float]:
    """The t interval of the answers, cut to 1-7 (no interval of one answer)."""
    found = stats.mean({int(s): int(c) for s, c in zip(scores, counts, strict=True) if c})
    return max(found.ci_low, 1.0), min(found.ci_high, 7.0)


def coverage(method: Interval, scores: np.ndarray, shares: np.ndarray, truth: float, n: int, samples: int) -> str:
    """'coverage / mean width' of the method's intervals over samples of n answers."""
    draws = np.random.default_rng(n).multinomial(n, shares, size=samples).astype(float)
    found = np.array([method(scores, counts) for counts in draws])
    held = np.mean((found[:, 0] <= truth + 1e-9) & (truth - 1e-9 <= found[:, 1]))
    return f"{held:.3f} / {np.mean(found[:, 1] - found[:, 0]):5.2f}"


def report(
    title: str, scores: np.ndarray, populations: tuple[list[float], ...], methods: dict[str, Interval], samples: int
) -> None:
    """One table per population: coverage / width per method and n."""
    for population in populations:
        shares = np.array(population, dtype=float) / sum(population)
        truth = float(nps_of(scores, shares) if title == "NPS" else mean_of(scores, shares))
        print(f"\n{title}, population {np.round(shares, 2).tolist()} (true value {truth:.2f}): coverage / mean width")
        for n in SIZES:
            cells = "   ".join(
                f"{name} {coverage(m, scores, shares, truth, n, samples)}" for name, m in methods.items()
            )
            print(f"  n={n:2d}  {cells}")


def main() -> None:
    """Print the coverage tables."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--samples", type=int, default=1000)
    samples = parser.parse_args().samples
    nps_methods = {
        "cxm": from_estimate(stats.nps, normal=False),
        "normal": from_estimate(stats.nps, normal=True),
        "percentile bootstrap": percentile_bootstrap(nps_of, expanded=False),
    }
    report("NPS", np.array([0.0, 7.0, 10.0]), NPS_POPULATIONS, nps_methods, samples)
    mean_methods = {
        "cxm": from_estimate(stats.ces, normal=False),
        "plain t": plain_t,
        "percentile bootstrap": percentile_bootstrap(mean_of, expanded=False),
        "expanded bootstrap": percentile_bootstrap(mean_of, expanded=True),
    }
    report("CES", np.arange(1.0, 8.0), CES_POPULATIONS, mean_methods, samples)


if __name__ == "__main__":
    main()
